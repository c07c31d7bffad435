/** Signs the JWTs of Vonage applications (RS256) from a private key, cached until near expiry. */
import { builtin } from '../core/builtins.js';

/** A Vonage application's credentials, as `identityInsightsProvider` takes them. */
export interface JwtSignerOptions {
  applicationId: string;
  /** PEM text of the application's RSA private key (PKCS#8 `BEGIN PRIVATE KEY`, or PKCS#1 `BEGIN RSA PRIVATE KEY` on Node). */
  privateKey: string;
  /** Lifetime of each token in seconds (Vonage's own default). */
  ttlS?: number;
  /** Clock in ms since the epoch; injectable so tests can expire tokens. */
  now?: () => number;
}

/** Signs RS256 JWTs for Vonage's APIs, re-using each until shortly before it expires. */
export interface JwtSigner {
  /** A valid token: the current one, or a new one when it is near its end. */
  token(): string | Promise<string>;
  /** How many tokens were signed (signing costs far more than re-use). */
  readonly signatures: number;
}

/** Why a private key was refused; never the key itself. */
export class PrivateKeyError extends Error {}

const DEFAULT_TTL_S = 900;
/** A token is replaced this long before it expires, so that one in flight never arrives expired. */
const RENEW_BEFORE_S = 60;
const PKCS8 = /^-----BEGIN PRIVATE KEY-----\s+([A-Za-z0-9+/=\s]+?)\s*-----END PRIVATE KEY-----$/;
const PKCS1 = /^-----BEGIN RSA PRIVATE KEY-----\s+[A-Za-z0-9+/=\s]+?\s*-----END RSA PRIVATE KEY-----$/;

const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/=+$/, '')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
const encodeJson = (value: object) => base64url(new TextEncoder().encode(JSON.stringify(value)));

type Sign = (data: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/**
 * The RS256 signing function of `pem`. With node:crypto the key is parsed (and checked to be RSA) here, at once;
 * with only Web Crypto (Workers, browsers) the PEM's shape is checked here and the key imported on first use.
 * Throws PrivateKeyError, whose message never holds any part of the key.
 */
function signerOf(pem: string): Sign {
  const text = pem.trim();
  const nodeCrypto = builtin('node:crypto');
  if (nodeCrypto) {
    let key: import('node:crypto').KeyObject;
    try {
      key = nodeCrypto.createPrivateKey({ key: text, format: 'pem' });
    } catch {
      throw new PrivateKeyError(
        'expected the PEM text of an RSA private key (BEGIN PRIVATE KEY), as Vonage gives it',
      );
    }
    if (key.asymmetricKeyType !== 'rsa') {
      throw new PrivateKeyError(
        `expected an RSA private key, got a ${key.asymmetricKeyType ?? 'non-asymmetric'} key`,
      );
    }
    return (data) => new Uint8Array(nodeCrypto.sign('sha256', data, key));
  }
  const body = PKCS8.exec(text)?.[1];
  if (body === undefined) {
    throw new PrivateKeyError(
      PKCS1.test(text)
        ? 'expected a PKCS#8 key (BEGIN PRIVATE KEY): this runtime has only Web Crypto; convert with `openssl pkcs8 -topk8 -nocrypt`'
        : 'expected the PEM text of an RSA private key (BEGIN PRIVATE KEY), as Vonage gives it',
    );
  }
  let der: Uint8Array;
  try {
    der = Uint8Array.from(atob(body.replace(/\s+/g, '')), (c) => c.charCodeAt(0));
  } catch {
    throw new PrivateKeyError('expected base64 between the PEM lines of the private key');
  }
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  let imported: ReturnType<typeof crypto.subtle.importKey> | undefined;
  return async (data) => {
    imported ??= crypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
    return new Uint8Array(await crypto.subtle.sign(algorithm, await imported, data));
  };
}

/** Checks `pem` and returns a signer of Vonage application JWTs (claims `application_id`, `iat`, `jti`, `exp`). */
export function createJwtSigner(options: JwtSignerOptions): JwtSigner {
  const sign = signerOf(options.privateKey);
  const ttlS = options.ttlS ?? DEFAULT_TTL_S;
  const now = options.now ?? Date.now;
  const header = encodeJson({ alg: 'RS256', typ: 'JWT' });
  let current: { token: string | Promise<string>; renewAt: number } | undefined;
  let signatures = 0;

  function issue(iat: number): string | Promise<string> {
    signatures++;
    const claims = { application_id: options.applicationId, iat, jti: crypto.randomUUID(), exp: iat + ttlS };
    const unsigned = `${header}.${encodeJson(claims)}`;
    const signed = sign(new TextEncoder().encode(unsigned));
    if (signed instanceof Uint8Array) return `${unsigned}.${base64url(signed)}`;
    return signed.then((s) => `${unsigned}.${base64url(s)}`);
  }

  return {
    token() {
      const seconds = Math.floor(now() / 1000);
      if (current === undefined || seconds >= current.renewAt) {
        const token = issue(seconds);
        const entry = { token, renewAt: seconds + ttlS - Math.min(RENEW_BEFORE_S, ttlS / 2) };
        current = entry;
        // A failed asynchronous signature is not kept: the next check signs again.
        if (token instanceof Promise) {
          token.then(
            (t) => {
              if (current === entry) entry.token = t;
            },
            () => {
              if (current === entry) current = undefined;
            },
          );
        }
      }
      return current.token;
    },
    get signatures() {
      return signatures;
    },
  };
}
