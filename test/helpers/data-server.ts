import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';

/** What a route answers: a body (with its SHA-256 line computed by the test), or a handler of its own. */
export type Route = Uint8Array | string | ((res: ServerResponse, hit: number) => void);

export interface DataServer {
  url: string;
  /** Every request seen, in order. */
  requests: { path: string; headers: IncomingHttpHeaders }[];
  /** Requests seen for one path (query included). */
  count(path: string): number;
  routes: Map<string, Route>;
  close(): Promise<void>;
}

/**
 * A stand-in for a data publisher (GitHub releases, MaxMind, IPinfo) on 127.0.0.1, over https with `tls`:
 * each path answers its route, anything else 404. Counting requests is how tests see that nothing was downloaded needlessly.
 */
export async function startDataServer(
  routes: Record<string, Route> = {},
  options: { tls?: { key: Buffer; cert: Buffer } } = {},
): Promise<DataServer> {
  const table = new Map(Object.entries(routes));
  const requests: DataServer['requests'] = [];
  const sockets = new Set<import('node:net').Socket>();
  const handle = (req: import('node:http').IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    requests.push({ path, headers: req.headers });
    const route = table.get(path);
    if (route === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    if (typeof route === 'function') {
      route(res, requests.filter((r) => r.path === path).length);
      return;
    }
    const body = typeof route === 'string' ? Buffer.from(route) : Buffer.from(route);
    res.writeHead(200, { 'content-length': body.length }).end(body);
  };
  const server = options.tls ? createHttpsServer(options.tls, handle) : createServer(handle);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    routes: table,
    count: (path) => requests.filter((r) => r.path === path).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A loopback data server for one test file, and a fresh data dir per test under one temp root: started before the
 * file's tests, its routes and requests cleared after each, closed (and the root removed) at the end.
 */
export function useDataServer(prefix: string): { readonly server: DataServer; freshDir(): string } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  let started: DataServer | undefined;
  let n = 0;
  beforeAll(async () => {
    started = await startDataServer();
  });
  afterEach(() => {
    started?.routes.clear();
    if (started) started.requests.length = 0;
  });
  afterAll(async () => {
    await started?.close();
    rmSync(root, { recursive: true, force: true });
  });
  return {
    get server() {
      if (!started) throw new Error('useDataServer: the server starts in beforeAll; read it inside a test');
      return started;
    },
    freshDir: () => join(root, `d${n++}`),
  };
}
