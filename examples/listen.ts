/** Starts an example's server on 127.0.0.1:PORT, or exits 1 saying the port is taken and how to choose another. */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Listens on loopback, then calls `ready` with the bound port (PORT=0 picks a free one). When the port cannot be
 * had, prints one line to stderr (`port 3000 is in use: set PORT=3001 npm start`) and exits with status 1,
 * after `cleanup` (an example's core, a fake server).
 */
export function listenOrExit(
  handler: RequestListener,
  options: { port: number; script: string; cleanup?: () => Promise<void> },
  ready: (port: number) => void,
): Server {
  const { port, script, cleanup } = options;
  const server = createServer(handler);
  server.once('error', async (error: NodeJS.ErrnoException) => {
    console.error(
      error.code === 'EADDRINUSE'
        ? `port ${port} is in use: set PORT=${port + 1} ${script} (or any free port; PORT=0 picks one)`
        : `cannot listen on 127.0.0.1:${port} (${error.code ?? error.message}): set PORT=… ${script}`,
    );
    await cleanup?.().catch(() => {});
    process.exit(1);
  });
  server.listen(port, '127.0.0.1', () => ready((server.address() as AddressInfo).port));
  return server;
}
