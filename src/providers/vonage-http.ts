import { Pool } from 'undici';
import { ProviderError } from '../core/errors.js';

export interface VonageHttpOptions {
  /** Origin plus an optional path prefix, e.g. 'https://api.nexmo.com'. */
  baseUrl: string;
  apiKey: string;
  apiSecret: string;
  /** Most sockets kept open to Vonage. */
  connections: number;
}

export interface VonageAnswer {
  statusCode: number;
  /** Seconds from a Retry-After header, when there was a usable one. */
  retryAfterS: number | undefined;
  body: string;
}

/** Vonage answers in a few kB; anything far larger is not a Number Insight answer. */
const MAX_BODY_BYTES = 1024 * 1024;
/** Vonage documents 15 s as its slowest answer; the caller's signal normally ends a request long before. */
const SAFETY_TIMEOUT_MS = 30_000;

const NETWORK_CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  UND_ERR_SOCKET: 'connection closed by the other side',
  ENOTFOUND: 'DNS lookup failed',
  EAI_AGAIN: 'DNS lookup failed',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: `no answer within ${SAFETY_TIMEOUT_MS / 1000} s`,
  UND_ERR_BODY_TIMEOUT: `no complete answer within ${SAFETY_TIMEOUT_MS / 1000} s`,
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/**
 * The HTTP side of the Vonage provider: one keep-alive undici Pool, Basic auth in a header, and errors
 * whose messages are written here, so that neither the secret nor the query (the phone number) leaks
 * through an undici message.
 */
export class VonageHttp {
  readonly #pool: Pool;
  readonly #prefix: string;
  readonly #host: string;
  readonly #authorization: string;

  constructor(options: VonageHttpOptions) {
    const url = new URL(options.baseUrl);
    this.#prefix = url.pathname.replace(/\/+$/, '');
    this.#host = url.host;
    this.#authorization = `Basic ${Buffer.from(`${options.apiKey}:${options.apiSecret}`).toString('base64')}`;
    this.#pool = new Pool(url.origin, {
      connections: options.connections,
      pipelining: 1,
      headersTimeout: SAFETY_TIMEOUT_MS,
      bodyTimeout: SAFETY_TIMEOUT_MS,
      maxResponseSize: MAX_BODY_BYTES,
    });
  }

  /** GETs `path` (with its query). Throws ProviderError 'timeout' when `signal` aborts, else 'network_error'. */
  async get(path: string, signal: AbortSignal): Promise<VonageAnswer> {
    try {
      const res = await this.#pool.request({
        method: 'GET',
        path: this.#prefix + path,
        headers: { authorization: this.#authorization, accept: 'application/json' },
        signal,
      });
      const body = await res.body.text();
      return { statusCode: res.statusCode, retryAfterS: retryAfter(res.headers['retry-after']), body };
    } catch (error) {
      throw this.#failure(error, signal);
    }
  }

  async close(): Promise<void> {
    if (!this.#pool.destroyed) await this.#pool.destroy();
  }

  #failure(error: unknown, signal: AbortSignal): ProviderError {
    if (signal.aborted) {
      return new ProviderError('timeout', `Vonage lookup at ${this.#host} cut by the time budget`, {
        upstream: true,
      });
    }
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
      return new ProviderError('invalid_response', `Vonage answered with more than ${MAX_BODY_BYTES} bytes`);
    }
    if (code === 'UND_ERR_DESTROYED' || code === 'UND_ERR_CLOSED') {
      return new ProviderError('closed', 'the Vonage provider is closed', { upstream: false });
    }
    const cause =
      typeof code === 'string' ? (NETWORK_CAUSES[code] ?? `request failed (${code})`) : 'request failed';
    // The cause is not attached: undici's errors can carry the request path, which holds the number.
    return new ProviderError('network_error', `Vonage request to ${this.#host} failed: ${cause}`);
  }
}

function retryAfter(header: string | string[] | undefined): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined;
  return Number(v.trim());
}
