/** A forward proxy on 127.0.0.1 that answers CONNECT only, as corporate proxies do for https, and counts what it saw. */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';

export interface ConnectProxy {
  url: string;
  /** Every CONNECT, with its target (host:port) and headers: all a proxy ever sees of an https download. */
  connects: { target: string; headers: IncomingHttpHeaders }[];
  /** Plain (non-CONNECT) requests, which this proxy refuses with 405. */
  plain: number;
  close(): Promise<void>;
}

/**
 * Tunnels CONNECT host:port to `resolve(host)` (a name the client itself cannot resolve reaches the loopback
 * data server, as a company's proxy resolves what its clients cannot), or answers `status` instead of 200.
 */
export async function startConnectProxy(
  options: { resolve?: (host: string) => string; status?: number } = {},
): Promise<ConnectProxy> {
  const connects: ConnectProxy['connects'] = [];
  const sockets = new Set<Socket>();
  const proxy: ConnectProxy = { url: '', connects, plain: 0, close: async () => {} };
  const server = createServer((_req, res) => {
    proxy.plain++;
    res.writeHead(405).end('CONNECT only');
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    connects.push({ target, headers: req.headers });
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (options.status !== undefined && options.status !== 200) {
      client.end(`HTTP/1.1 ${options.status} Refused\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    const at = target.lastIndexOf(':');
    const host = (options.resolve ?? ((h: string) => h))(target.slice(0, at));
    const upstream = connect(Number(target.slice(at + 1)), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
