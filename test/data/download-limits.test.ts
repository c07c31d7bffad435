import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpMatchConfigError, IpMatchDataError, updateDatabase } from 'ipmatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countryDb, sha256 } from '../fixtures/geo-data.js';
import { type DataServer, startDataServer } from '../helpers/data-server.js';

const root = mkdtempSync(join(tmpdir(), 'ipmatch-limits-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `d${n++}`);
const GB = countryDb('GB', 2);
const timers: NodeJS.Timeout[] = [];

let server: DataServer;
beforeAll(async () => {
  server = await startDataServer({ '/gb.mmdb': GB });
});
afterAll(async () => {
  for (const t of timers) clearInterval(t);
  await server.close();
});

/** Serves GB in `pieces` equal writes, one every `everyMs`. */
function paced(path: string, pieces: number, everyMs: number): void {
  server.routes.set(path, (res) => {
    const bytes = Buffer.from(GB);
    res.writeHead(200, { 'content-length': bytes.length });
    const step = Math.ceil(bytes.length / pieces);
    let at = 0;
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer);
      res.write(bytes.subarray(at, at + step));
      at += step;
      if (at >= bytes.length) {
        clearInterval(timer);
        res.end();
      }
    }, everyMs);
    timers.push(timer);
  });
}

async function failure(promise: Promise<unknown>): Promise<IpMatchDataError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IpMatchDataError);
  return error as IpMatchDataError;
}

describe('a minimum throughput', () => {
  it('cuts a trickle (a few bytes a tick, never silent) long before the total timeout, and frees the lock', async () => {
    const dir = freshDir();
    paced('/trickle.mmdb', 100_000, 20); // a handful of bytes every 20 ms: the idle timeout never fires
    const limits = { minBytesPerSecond: 2_000, throughputWindowMs: 300, totalTimeoutMs: 60_000 };
    const started = Date.now();
    const error = await failure(
      updateDatabase({ url: `${server.url}/trickle.mmdb`, sha256: sha256(GB), dir, limits }),
    );
    expect(error.code).toBe('too_slow');
    expect(error.message).toMatch(/bytes in 0\.3 s, under the minimum of 2000 bytes a second/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(readdirSync(dir)).toEqual([]); // no partial file, no lock
    const next = await updateDatabase({
      url: `${server.url}/gb.mmdb`,
      sha256: sha256(GB),
      dir,
      lockWaitMs: 0,
    });
    expect(next.status).toBe('updated');
  });

  it('keeps a slow download that stays above the minimum in every window', async () => {
    paced('/steady.mmdb', 4, 100);
    const limits = { minBytesPerSecond: 1_000, throughputWindowMs: 150 };
    const result = await updateDatabase({
      url: `${server.url}/steady.mmdb`,
      sha256: sha256(GB),
      dir: freshDir(),
      limits,
    });
    expect(result.status).toBe('updated');
  });

  it('validates the limits at the call', async () => {
    const bad = updateDatabase({
      url: `${server.url}/gb.mmdb`,
      sha256: sha256(GB),
      dir: freshDir(),
      limits: { minBytesPerSecond: -1, throughputWindowMs: 0 },
    });
    await expect(bad).rejects.toBeInstanceOf(IpMatchConfigError);
    await expect(bad).rejects.toThrow(/minBytesPerSecond[\s\S]*throughputWindowMs/);
  });
});

describe('an unreachable source', () => {
  it('says that the current data stays in use (bundled, then installed) and names the next steps', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const dir = freshDir();
    // A checksum unlike the installed file's, so that the second run does not answer up_to_date offline.
    const options = { url: `http://127.0.0.1:${closed}/fr.mmdb`, sha256: 'f'.repeat(64), dir };
    const first = await failure(updateDatabase(options));
    expect(first.code).toBe('unreachable');
    expect(first.message).toMatch(
      /connection refused\. Nothing changed: the bundled data \(built \d{4}-\d\d-\d\d\)/,
    );
    expect(first.hint).toMatch(/^Nothing changed: the bundled data .* stays in use\. Next: /);
    for (const step of ['HTTPS_PROXY', '--url URL and --sha256-url URL', 'localProvider({ database:']) {
      expect(first.hint).toContain(step);
    }
    await updateDatabase({ url: `${server.url}/gb.mmdb`, sha256: sha256(GB), dir });
    const second = await failure(updateDatabase(options));
    expect(second.hint).toContain(
      `the installed data (built ${new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10)}, in ${join(dir, 'current.mmdb')}) stays in use`,
    );
  });
});
