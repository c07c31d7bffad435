/** Which proxy, if any, a download goes through: HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as curl and undici read them. */
import { isLoopback, redactUrl } from './redact.js';

/** The proxy settings read from the environment (lowercase names first, as curl and undici do). */
export interface ProxySettings {
  /** For https URLs: https_proxy, else HTTPS_PROXY, else the http one. */
  https?: { url: string; from: string };
  /** For http URLs: http_proxy, else HTTP_PROXY. */
  http?: { url: string; from: string };
  /** no_proxy, else NO_PROXY: comma- or space-separated hosts, `.domain` suffixes, host:port, or `*`. */
  noProxy: string;
}

type Env = Record<string, string | undefined>;

function first(env: Env, names: string[]): { url: string; from: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { url: value, from: name };
  }
  return undefined;
}

export function proxySettings(env: Env): ProxySettings {
  const http = first(env, ['http_proxy', 'HTTP_PROXY']);
  const https = first(env, ['https_proxy', 'HTTPS_PROXY']) ?? http;
  return {
    ...(https === undefined ? {} : { https }),
    ...(http === undefined ? {} : { http }),
    noProxy: env.no_proxy ?? env.NO_PROXY ?? '',
  };
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/** Whether NO_PROXY names this host (the same matching as undici's EnvHttpProxyAgent). */
function bypassed(url: URL, noProxy: string): boolean {
  const host = url.host.replace(/:\d*$/, '').toLowerCase();
  const port = Number.parseInt(url.port, 10) || DEFAULT_PORTS[url.protocol] || 0;
  for (const entry of noProxy.split(/[,\s]/)) {
    if (!entry) continue;
    if (entry === '*') return true;
    const parsed = /^(.+):(\d+)$/.exec(entry);
    const name = (parsed ? parsed[1]! : entry).replace(/^\*?\./, '').toLowerCase();
    if (parsed && Number(parsed[2]) !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/**
 * The proxy a request to `url` goes through, or undefined for a direct connection. Loopback is never
 * proxied (as in Go's net/http): a proxy elsewhere would reach its own loopback, not this machine's, and
 * plain http (allowed only to loopback) would hand the request's credentials to the proxy in clear.
 */
export function proxyFor(url: URL, settings: ProxySettings): { url: string; from: string } | undefined {
  if (isLoopback(url) || bypassed(url, settings.noProxy)) return undefined;
  return url.protocol === 'https:' ? settings.https : settings.http;
}

/** "the proxy http://proxy:3128/ (HTTPS_PROXY)", credentials redacted: for messages. */
export function describeProxy(proxy: { url: string; from: string }): string {
  return `the proxy ${redactUrl(proxy.url)} (${proxy.from})`;
}

/** An invalid proxy URL is a clear failure, not undici's TypeError quoting it (with any password in it). */
export function invalidProxy(settings: ProxySettings): string | undefined {
  for (const proxy of [settings.https, settings.http]) {
    if (proxy === undefined) continue;
    let ok = false;
    try {
      ok = /^(https?|socks5?):$/.test(new URL(proxy.url).protocol);
    } catch {}
    if (!ok) {
      return `${proxy.from} is not a proxy URL such as http://proxy.example:3128 (http, https or socks5)`;
    }
  }
  return undefined;
}
