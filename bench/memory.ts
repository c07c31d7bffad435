import { ask, forkTs, nextMessage } from './children.js';
import type { FromServer } from './route-server.js';
import type { ServerKind } from './servers.js';
import { round } from './stats.js';
import type { Signup } from './streams.js';

export interface MemoryFigures {
  /** RSS of a fresh bare Express server after its first requests, in MB. */
  rssBareMB: number;
  /** RSS of a fresh ipMatch() server after its first checks (default GeoIP data loaded), in MB. */
  rssIpmatchMB: number;
  deltaMB: number;
  heapBareMB: number;
  heapIpmatchMB: number;
  /** Buffers outside the heap (the GeoIP data is one), in MB. */
  arrayBuffersBareMB: number;
  arrayBuffersIpmatchMB: number;
}

const MB = 1024 * 1024;

/** RSS and heap of a fresh server of `kind` after `signups` (through HTTP) and a full GC. */
async function footprint(kind: ServerKind, signups: readonly Signup[]) {
  const server = forkTs('route-server.ts', [kind], ['--expose-gc']);
  const { port } = await nextMessage<Extract<FromServer, { type: 'ready' }>>(server, 'ready');
  for (const s of signups) {
    const res = await fetch(`http://127.0.0.1:${port}/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': s.ip },
      body: JSON.stringify({ name: 'Ada Lovelace', email: 'ada@example.com', phone: s.phone }),
    });
    await res.arrayBuffer();
  }
  const m = await ask<Extract<FromServer, { type: 'memory' }>>(server, { type: 'memory' }, 'memory');
  server.send({ type: 'quit' });
  await new Promise((resolve) => server.once('exit', resolve));
  return m;
}

/** What the default data costs a process: a bare Express server against an ipMatch() one, each fresh. */
export async function measureMemory(signups: readonly Signup[]): Promise<MemoryFigures> {
  const bare = await footprint('bare', signups);
  const ipm = await footprint('ipmatch', signups);
  return {
    rssBareMB: round(bare.rss / MB, 1),
    rssIpmatchMB: round(ipm.rss / MB, 1),
    deltaMB: round((ipm.rss - bare.rss) / MB, 1),
    heapBareMB: round(bare.heapUsed / MB, 1),
    heapIpmatchMB: round(ipm.heapUsed / MB, 1),
    arrayBuffersBareMB: round(bare.arrayBuffers / MB, 1),
    arrayBuffersIpmatchMB: round(ipm.arrayBuffers / MB, 1),
  };
}
