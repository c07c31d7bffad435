/** Query parameters that carry a credential: tokens, keys, and the signatures of pre-signed CDN links. */
const SECRET_PARAM = /token|key|secret|sig|credential|password|auth/i;

/**
 * A URL fit to show or store: no user:password, and every credential-like query value replaced. Used for
 * every URL that reaches a message, a progress line or the manifest, whatever its source.
 */
export function redactUrl(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return '(an invalid URL)';
  }
  u.username = '';
  u.password = '';
  for (const name of [...u.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) u.searchParams.set(name, 'REDACTED');
  }
  return u.toString();
}

/** Loopback hosts, the only ones a download may reach over plain http (tests, a local mirror). */
export function isLoopback(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** https anywhere, http only to loopback. */
export function allowedUrl(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url));
}
