/** One HTTP download within limits (timeouts, size cap, minimum rate), redirects and proxy handled. */
import type { Dispatcher } from 'undici';
import { requireBuiltin } from '../core/builtins.js';
import { IpMatchDataError } from '../geodata/errors.js';
import { DirectClient, type HttpResponse } from './http-direct.js';
import { invalidProxy, type ProxySettings, proxyFor } from './proxy.js';
import { allowedUrl, redactUrl } from './redact.js';
import { guardThroughput, type ThroughputGuard } from './throughput.js';
import { transportError } from './transport-error.js';

/** How long and how much a download may take. */
export interface DownloadLimits {
  /** To open the TCP/TLS connection. Default 10 000 ms. */
  connectTimeoutMs?: number | undefined;
  /** Without a byte from the server (headers or body). Default 30 000 ms. */
  idleTimeoutMs?: number | undefined;
  /** For one whole file, redirects included. Default 600 000 ms. */
  totalTimeoutMs?: number | undefined;
  /** Largest file accepted. Default 256 MiB: country databases are 5–30 MB, GeoLite2-City about 60 MB. */
  maxBytes?: number | undefined;
  /**
   * A body that averages fewer bytes a second than this over `throughputWindowMs` is cut (`too_slow`): a
   * trickle would otherwise hold the update lock until the total timeout. Default 1 024 (1 KB/s); 0 turns it off.
   */
  minBytesPerSecond?: number | undefined;
  /** The window over which `minBytesPerSecond` is averaged. Default 30 000 ms. */
  throughputWindowMs?: number | undefined;
}

export const DEFAULT_LIMITS: Required<DownloadLimits> = {
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  totalTimeoutMs: 600_000,
  maxBytes: 256 * 1024 * 1024,
  minBytesPerSecond: 1024,
  throughputWindowMs: 30_000,
};

/** GitHub answers a release download with one redirect, IPinfo and MaxMind with one to their CDN. */
const MAX_REDIRECTS = 5;
/** A checksum file is one line (or a small JSON object). */
const MAX_CHECKSUM_BYTES = 64 * 1024;

/** Progress of one download: `total` when the server said how long the file is. */
export type OnProgress = (progress: { bytes: number; total: number | undefined }) => void;

/** One HTTP GET: where, with which headers, within which limits, through which proxy. */
export interface DownloadRequest {
  url: string;
  /** Sent to the first URL's origin only. */
  headers: Record<string, string>;
  limits: Required<DownloadLimits>;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY, from the options' `env`. Default: no proxy. */
  proxy?: ProxySettings;
}

/**
 * Where a request goes: straight, over Node's own client (loopback always, and every host when no proxy is
 * set or NO_PROXY names it), or through the proxy the environment names, over undici, loaded for it alone.
 */
interface Dispatchers {
  direct: DirectClient;
  proxied: () => Promise<Dispatcher>;
}

/** Drops a body we will not read; undici reports the abort as an 'error' event nobody needs. */
function discard(body: { on(event: 'error', listener: () => void): unknown; destroy(): unknown }): void {
  body.on('error', () => {});
  body.destroy();
}

/**
 * Kept out of the import's literal so that bundlers for Workers and browsers leave undici alone when they
 * bundle `ipmatch`; Node resolves it at run time, and only a download through a proxy needs it.
 */
const UNDICI = 'undici';
const undici = async () => (await import(/* @vite-ignore */ UNDICI)) as typeof import('undici');

/** One GET: over Node's own client when no proxy carries `url`, else through undici's proxy agent. */
async function get(
  url: URL,
  headers: Record<string, string>,
  req: DownloadRequest,
  agents: Dispatchers,
  signal: AbortSignal,
): Promise<HttpResponse> {
  if (proxyFor(url, req.proxy ?? { noProxy: '' }) === undefined) {
    return agents.direct.get(url, headers, req.limits, signal);
  }
  return (await undici()).request(url, {
    method: 'GET',
    headers,
    dispatcher: await agents.proxied(),
    signal,
    headersTimeout: req.limits.idleTimeoutMs,
    bodyTimeout: req.limits.idleTimeoutMs,
  });
}

/**
 * Sends GET and follows redirects itself, so that every hop is checked (https, or http to loopback) and the
 * credentials never leave the origin they were meant for (a CDN's pre-signed link refuses them anyway).
 */
async function open(req: DownloadRequest, agents: Dispatchers, signal: AbortSignal) {
  let url = new URL(req.url);
  const origin = url.origin;
  for (let hop = 0; ; hop++) {
    const headers = { 'user-agent': 'ipmatch-db-update', ...(url.origin === origin ? req.headers : {}) };
    const res = await get(url, headers, req, agents, signal);
    const location = res.headers.location;
    if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string') {
      discard(res.body);
      if (hop >= MAX_REDIRECTS) {
        throw new IpMatchDataError(
          'download_failed',
          `${redactUrl(req.url)}: more than ${MAX_REDIRECTS} redirects`,
        );
      }
      const next = new URL(location, url);
      if (!allowedUrl(next)) {
        throw new IpMatchDataError(
          'download_failed',
          `${redactUrl(req.url)} redirected to ${redactUrl(next)}: only https (or http to loopback) is followed`,
        );
      }
      url = next;
      continue;
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      discard(res.body);
      const hint =
        res.statusCode === 401 || res.statusCode === 403
          ? ' (check the account ID, licence key or token)'
          : '';
      throw new IpMatchDataError('http_status', `${redactUrl(url)} answered HTTP ${res.statusCode}${hint}`);
    }
    return res;
  }
}

async function withAgent<T>(
  req: DownloadRequest,
  run: (agents: Dispatchers, signal: AbortSignal, slow: AbortController) => Promise<T>,
): Promise<T> {
  const shown = redactUrl(req.url);
  const settings = req.proxy ?? { noProxy: '' };
  const wrong = invalidProxy(settings);
  if (wrong !== undefined) throw new IpMatchDataError('unreachable', `${shown}: ${wrong}`);
  const direct = new DirectClient();
  let proxied: Promise<Dispatcher> | undefined;
  // The settings are passed in full ('' for none) so that undici never falls back to process.env itself.
  const proxyAgent = async () =>
    new (await undici()).EnvHttpProxyAgent({
      connect: { timeout: req.limits.connectTimeoutMs },
      connections: 1,
      httpProxy: settings.http?.url ?? '',
      httpsProxy: settings.https?.url ?? '',
      noProxy: settings.noProxy,
    });
  const total = AbortSignal.timeout(req.limits.totalTimeoutMs);
  const slow = new AbortController();
  try {
    const agents = { direct, proxied: () => (proxied ??= proxyAgent()) };
    return await run(agents, AbortSignal.any([total, slow.signal]), slow);
  } catch (error) {
    throw transportError(error, {
      shown,
      total,
      totalMs: req.limits.totalTimeoutMs,
      slow: slow.signal,
      proxy: proxyFor(new URL(req.url), settings),
    });
  } finally {
    direct.destroy();
    await proxied?.then((agent) => agent.destroy()).catch(() => {});
  }
}

/** Reads a body, counting it towards the minimum throughput; the guard stops however the body ends. */
async function* counted(
  body: AsyncIterable<Buffer>,
  guard: ThroughputGuard,
): AsyncGenerator<Buffer, void, undefined> {
  try {
    for await (const chunk of body) {
      guard.add(chunk.length);
      yield chunk;
    }
  } finally {
    guard.stop();
  }
}

/**
 * Writes a chunk to the file at once, before the next is read. An awaited write per chunk let the body run
 * ahead of the disk and the process hold about twice the file in buffers at its peak (bench/data-update.ts:
 * peak RSS of `db update`); a 64 KiB write to the page cache blocks for microseconds.
 */
function writeAll(fs: typeof import('node:fs'), fd: number, chunk: Buffer): void {
  for (let at = 0; at < chunk.length; ) at += fs.writeSync(fd, chunk, at, chunk.length - at);
}

/** The body of a small text resource (a checksum file). */
export async function fetchText(req: DownloadRequest): Promise<string> {
  return withAgent(req, async (agents, signal, slow) => {
    const res = await open(req, agents, signal);
    const guard = guardThroughput(redactUrl(req.url), req.limits, slow);
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of counted(res.body as AsyncIterable<Buffer>, guard)) {
      bytes += chunk.length;
      if (bytes > MAX_CHECKSUM_BYTES) {
        discard(res.body);
        throw new IpMatchDataError(
          'checksum_unreadable',
          `${redactUrl(req.url)} is not a checksum file (too long)`,
        );
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  });
}

/**
 * Streams a download into `path` (created; it must not exist), hashing as it goes, then fsyncs it.
 * Resolves the size and SHA-256 (hex). On any failure the partial file is removed.
 */
export async function downloadToFile(
  req: DownloadRequest,
  path: string,
  onProgress?: OnProgress,
): Promise<{ bytes: number; sha256: string }> {
  const fs = requireBuiltin('node:fs', 'downloads write to disk');
  const { createHash } = requireBuiltin('node:crypto', 'downloads are hashed with node:crypto');
  const shown = redactUrl(req.url);
  let file: import('node:fs/promises').FileHandle | undefined;
  try {
    return await withAgent(req, async (agents, signal, slow) => {
      const res = await open(req, agents, signal);
      const length = Number(res.headers['content-length']);
      const total = Number.isFinite(length) && length >= 0 ? length : undefined;
      const tooLarge = (n: number) =>
        new IpMatchDataError(
          'too_large',
          `${shown} is ${n} bytes or more, over the cap of ${req.limits.maxBytes}`,
        );
      if (total !== undefined && total > req.limits.maxBytes) {
        discard(res.body);
        throw tooLarge(total);
      }
      file = await fs.promises.open(path, 'wx', 0o644);
      const hash = createHash('sha256');
      let bytes = 0;
      const guard = guardThroughput(shown, req.limits, slow);
      for await (const chunk of counted(res.body as AsyncIterable<Buffer>, guard)) {
        bytes += chunk.length;
        if (bytes > req.limits.maxBytes) {
          discard(res.body);
          throw tooLarge(bytes);
        }
        hash.update(chunk);
        writeAll(fs, file.fd, chunk);
        onProgress?.({ bytes, total });
      }
      if (total !== undefined && bytes !== total) {
        throw new IpMatchDataError(
          'download_failed',
          `${shown}: the body ended after ${bytes} of ${total} bytes`,
        );
      }
      await file.sync();
      return { bytes, sha256: hash.digest('hex') };
    });
  } catch (error) {
    await (file as import('node:fs/promises').FileHandle | undefined)?.close().catch(() => {});
    file = undefined;
    await fs.promises.rm(path, { force: true });
    throw error;
  } finally {
    await (file as import('node:fs/promises').FileHandle | undefined)?.close();
  }
}
