/** GETs over Node's own http and https, for the hops no proxy carries: undici is loaded only for a proxy. */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { requireBuiltin } from '../core/builtins.js';

/** The error code of a connection not made within `connectTimeoutMs` (transport-error.ts names it). */
export const CONNECT_TIMEOUT = 'IPMATCH_CONNECT_TIMEOUT';
/** The error code of a server silent for `idleTimeoutMs`, for the headers or within the body. */
export const IDLE_TIMEOUT = 'ETIMEDOUT';

/** What a GET answered, over either client: the status, the headers, and the body still to read (or to destroy). */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: AsyncIterable<Buffer> & { on(event: 'error', listener: () => void): unknown; destroy(): unknown };
}

function coded(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * One GET per call over `node:http` / `node:https` (a connection of its own, closed after the body), within
 * the same timeouts undici's request was given: connecting (TLS handshake included), then silence between
 * bytes. Undici's first request costs 15 to 20 MB of peak RSS (its modules and llhttp's WebAssembly); Node's
 * own client is already in the binary (bench/README.md, `ipmatch db update`'s peak RSS).
 */
export class DirectClient {
  readonly #open = new Set<ClientRequest>();

  /** Resolves once the headers are in; rejects with Node's error (ECONNREFUSED, ENOTFOUND…) or ours. */
  get(
    url: URL,
    headers: Record<string, string>,
    limits: { connectTimeoutMs: number; idleTimeoutMs: number },
    signal: AbortSignal,
  ): Promise<HttpResponse> {
    const http = requireBuiltin(
      url.protocol === 'https:' ? 'node:https' : 'node:http',
      'downloads run on Node only',
    );
    return new Promise((resolve, reject) => {
      signal.throwIfAborted();
      const req = http.request(url, { method: 'GET', headers, agent: false });
      this.#open.add(req);
      let res: IncomingMessage | undefined;
      const fail = (error: unknown) => {
        req.destroy(error as Error);
        res?.destroy(error as Error);
      };
      const onAbort = () => fail(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      req.once('close', () => {
        signal.removeEventListener('abort', onAbort);
        this.#open.delete(req);
      });
      req.on('error', reject); // after the headers, the body's reader sees the error
      req.once('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(
          () => fail(coded(`not connected within ${limits.connectTimeoutMs} ms`, CONNECT_TIMEOUT)),
          limits.connectTimeoutMs,
        );
        socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      // Applied once connected, to the socket: silence before the headers and between the body's bytes.
      req.setTimeout(limits.idleTimeoutMs, () => {
        fail(coded(`silent for ${limits.idleTimeoutMs} ms`, IDLE_TIMEOUT));
      });
      req.once('response', (response: IncomingMessage) => {
        res = response;
        // Whoever reads the body sees its error; one destroyed unread (a redirect, a failure) needs no report.
        response.on('error', () => {});
        resolve({ statusCode: response.statusCode ?? 0, headers: response.headers, body: response });
      });
      req.end();
    });
  }

  /** Closes every connection still open: a download that failed midway leaves none behind. */
  destroy(): void {
    for (const req of this.#open) req.destroy();
    this.#open.clear();
  }
}
