/** Our own message for a failed download's transport: undici's can quote the URL with its query, or a proxy's password. */
import { IpMatchDataError } from '../geodata/errors.js';
import { CONNECT_TIMEOUT } from './http-direct.js';
import { describeProxy } from './proxy.js';

/** Network failures that mean the source (or the proxy) cannot be reached from here at all. */
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'DNS lookup failed',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'could not connect in time',
  [CONNECT_TIMEOUT]: 'could not connect in time',
};

/** Failures of a connection that was made. */
const BROKEN: Record<string, string> = {
  ECONNRESET: 'connection reset',
  UND_ERR_SOCKET: 'the connection closed early',
};

const SILENT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** undici's RequestAbortedError when a proxy refuses a CONNECT: "Proxy response (407) !== 200 …". */
const PROXY_STATUS = /^Proxy response \((\d{3})\)/;

export interface TransportContext {
  /** The URL as shown (redacted). */
  shown: string;
  /** The whole download's deadline. */
  total: AbortSignal;
  totalMs: number;
  /** Aborted, with an IpMatchDataError as its reason, when the download went too slowly. */
  slow: AbortSignal;
  /** The proxy the first hop went through, if any. */
  proxy: { url: string; from: string } | undefined;
}

function proxyStatus(status: number): string {
  if (status === 407)
    return ' (it wants credentials: put them in the proxy URL, http://user:password@host:port)';
  if (status === 403) return ' (it does not allow this host: ask for it to be allowed, or use a mirror)';
  return '';
}

/** An IpMatchDataError for any error thrown while downloading; one already ours passes through. */
export function transportError(error: unknown, ctx: TransportContext): IpMatchDataError {
  if (error instanceof IpMatchDataError) return error;
  if (ctx.slow.aborted && ctx.slow.reason instanceof IpMatchDataError) return ctx.slow.reason;
  const { shown, proxy } = ctx;
  if (ctx.total.aborted) {
    return new IpMatchDataError(
      'timeout',
      `${shown}: not complete within ${ctx.totalMs / 1000} s (raise it with --timeout S, limits.totalTimeoutMs)`,
    );
  }
  const code = (error as { code?: string }).code ?? '';
  const message = String((error as { message?: unknown }).message ?? '');
  const refused = PROXY_STATUS.exec(message);
  if (refused && proxy) {
    const status = Number(refused[1]);
    return new IpMatchDataError(
      'unreachable',
      `${shown}: ${describeProxy(proxy)} answered HTTP ${status} to CONNECT${proxyStatus(status)}`,
    );
  }
  const unreachable = UNREACHABLE[code];
  if (unreachable !== undefined) {
    const where = proxy ? `${describeProxy(proxy)} cannot be reached: ` : '';
    return new IpMatchDataError('unreachable', `${shown}: ${where}${unreachable}`);
  }
  if (SILENT.has(code)) return new IpMatchDataError('timeout', `${shown}: the server went silent`);
  const cause = BROKEN[code] ?? `network error${code ? ` (${code})` : ''}`;
  return new IpMatchDataError('download_failed', `${shown}: ${cause}`);
}
