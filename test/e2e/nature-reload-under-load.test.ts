import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import express from 'express';
import { createIpMatch, localProvider } from 'ipmatch';
import { ipMatch } from 'ipmatch/express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEED_NAMES } from '../../src/geodata/nature/types.js';
import { type FeedEntries, type FeedServer, startFeedServer } from '../helpers/feed-server.js';
import { memoryLogger } from '../helpers/logger.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ipmatch-nature-reload-load-'));
const INTERVAL_MS = 200;
const GB_PHONE = '+447400123456';
/** An address no bundled list names; the second update lists it as a Tor exit. */
const NEW_EXIT = '81.2.71.77';
/** An address of the mirror's AWS feed, in the load: flagged `hosting` throughout, never blocked. */
const AWS_IP = '81.2.69.5';

/** Every feed, small and in its publisher's format: public ranges the bundled snapshot does not list. */
const FEEDS: Required<FeedEntries> = {
  aws: ['81.2.69.0/28', '2a0b:4340:a::/48'],
  gcp: ['81.2.69.32/28'],
  oracle: ['81.2.69.224/28'],
  azure: ['81.2.69.240/29'],
  digitalocean: ['81.2.70.0/28'],
  linode: ['81.2.70.16/28'],
  vultr: ['81.2.70.32/28'],
  'hosting-asn': ['81.2.70.48/28'],
  tor: ['81.2.71.1', '81.2.71.2', '2a0b:4340:7::1'],
  'icloud-relay': ['81.2.71.64/28'],
  vpn: ['81.2.71.128/28'],
};

let feeds: FeedServer;
const savedDataDir = process.env.IPMATCH_DATA_DIR;
beforeAll(async () => {
  feeds = await startFeedServer(FEEDS);
  process.env.IPMATCH_DATA_DIR = dir;
});
afterAll(async () => {
  if (savedDataDir === undefined) delete process.env.IPMATCH_DATA_DIR;
  else process.env.IPMATCH_DATA_DIR = savedDataDir;
  await feeds.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `ipmatch db update --dataset ip-nature`, as a user runs it: its own process, every feed from the mirror. */
function dbUpdate(): Promise<{ code: number | null; stderr: string }> {
  const feedFlags = FEED_NAMES.flatMap((name) => ['--feed', `${name}=${feeds.urls[name]}`]);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli.ts', 'db', 'update', '--dataset', 'ip-nature', ...feedFlags, '--dir', dir],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

interface Sample {
  sentAt: number;
  receivedAt: number;
  status: number;
  error: string | null;
}

describe('IP-nature refresh under load', { timeout: 60_000 }, () => {
  it('a Tor exit listed by `ipmatch db update` is blocked within two reload intervals, with no failed request', async () => {
    const first = await dbUpdate();
    expect(first.code, first.stderr).toBe(0);
    const installed = join(dir, 'ip-nature.bin');

    const logger = memoryLogger();
    const core = createIpMatch({
      provider: localProvider({ reload: { intervalMs: INTERVAL_MS } }),
      policy: { mismatch: 'flag', tor_exit: 'block' },
      logger,
    });
    await core.ready();
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(express.json());
    app.post('/signup', ipMatch(core), (req, res) => {
      res.json({ signals: req.ipMatch?.signals ?? [], network: req.ipMatch?.ip.network ?? null });
    });
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const t0 = performance.now();

    // The load: the AWS address, an old Tor exit's neighbours and ordinary addresses; none of them is blocked.
    let n = 0;
    const load = autocannon({
      url,
      connections: 4,
      duration: 30,
      timeout: 5,
      requests: [
        {
          method: 'POST',
          path: '/signup',
          setupRequest(request) {
            const ip = n++ % 3 === 0 ? AWS_IP : `81.2.${72 + (n % 8)}.${n % 250}`;
            request.headers = { 'content-type': 'application/json', 'x-forwarded-for': ip };
            request.body = `{"phone":"${GB_PHONE}"}`;
            return request;
          },
        },
      ],
    });

    // What the new exit sees, every 20 ms, beside the load.
    const samples: Sample[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const sentAt = performance.now() - t0;
        const res = await fetch(`${url}/signup`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': NEW_EXIT },
          body: JSON.stringify({ phone: GB_PHONE }),
        });
        const body = (await res.json()) as { error?: string };
        samples.push({
          sentAt,
          receivedAt: performance.now() - t0,
          status: res.status,
          error: body.error ?? null,
        });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    // The exit joins the mirror's Tor list; the updater's rename is seen by a 5 ms stat of the installed file.
    await new Promise((r) => setTimeout(r, 500));
    feeds.publish('tor', [...FEEDS.tor, NEW_EXIT]);
    const inode = statSync(installed).ino;
    let installedAt = Number.POSITIVE_INFINITY;
    let watching = true;
    const watcher = (async () => {
      while (watching && installedAt === Number.POSITIVE_INFINITY) {
        if (statSync(installed).ino !== inode) installedAt = performance.now() - t0;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const second = await dbUpdate();
    watching = false;
    await watcher;
    expect(second.code, second.stderr).toBe(0);
    // Sampling goes on well past two intervals after the install.
    await new Promise((r) => setTimeout(r, 4 * INTERVAL_MS + 300));

    sampling = false;
    await sampler;
    (load as unknown as { stop(): void }).stop();
    const result = await load;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await core.close();

    expect(installedAt).toBeLessThan(Number.POSITIVE_INFINITY);
    expect(result.non2xx).toBe(0);
    expect(result.errors + result.timeouts).toBe(0);
    expect(result.requests.total).toBeGreaterThan(200);
    expect(logger.lines).toEqual([]);

    const before = samples.filter((s) => s.receivedAt < installedAt);
    const settled = samples.filter((s) => s.sentAt >= installedAt + 2 * INTERVAL_MS);
    expect(before.length).toBeGreaterThan(0);
    expect(settled.length).toBeGreaterThan(3);
    expect(before.map((s) => s.status)).toEqual(before.map(() => 200));
    expect(settled.map((s) => `${s.status} ${s.error}`)).toEqual(settled.map(() => '403 tor_exit'));
    // Between the rename and two intervals later a sample may read either file, but nothing else.
    for (const s of samples) expect([200, 403]).toContain(s.status);
  });
});
