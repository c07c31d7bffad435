import { mkdtempSync, rmSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import express from 'express';
import { createIpMatch, localProvider } from 'ipmatch';
import { ipMatch } from 'ipmatch/express';
import { afterAll, describe, expect, it } from 'vitest';
import { countryDb, PROBE_IP, shrunkDb } from '../fixtures/geo-data.js';
import { writeMmdb } from '../fixtures/mmdb-writer.js';
import { memoryLogger } from '../helpers/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'ipmatch-reload-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const INTERVAL_MS = 200;
const LOAD_S = 10;
/** Ten replacements, one every 0.9 s from 0.6 s on: good and broken in turn. */
const FIRST_AT_MS = 600;
const EVERY_MS = 900;
const GB_PHONE = '+447400123456';

const half = (bytes: Uint8Array) => Buffer.from(bytes).subarray(0, Math.floor(bytes.length / 2));

/** Replacements in order: a good file with its country, or a broken one that must never be loaded. */
const REPLACEMENTS: { country: string | null; bytes: Uint8Array | string; what: string }[] = [
  { country: 'FR', bytes: countryDb('FR', 9), what: 'good FR' },
  { country: null, bytes: half(countryDb('US', 1)), what: 'cut short' },
  { country: 'GB', bytes: countryDb('GB', 8), what: 'good GB' },
  { country: null, bytes: '<html>503 Service Unavailable</html>', what: 'not an MMDB' },
  { country: 'FR', bytes: countryDb('FR', 7), what: 'good FR' },
  { country: null, bytes: shrunkDb('US'), what: 'lost its networks' },
  { country: 'GB', bytes: countryDb('GB', 6), what: 'good GB' },
  {
    country: null,
    bytes: writeMmdb({ ipVersion: 6, databaseType: 'x', networks: { '1.0.0.0/8': { asn: 1 } } }),
    what: 'no countries',
  },
  { country: 'FR', bytes: countryDb('FR', 5), what: 'good FR' },
  { country: null, bytes: countryDb('US', -4), what: 'built in the future' },
];

interface Sample {
  sentAt: number;
  receivedAt: number;
  country: string | null;
  status: number;
}

describe('hot reload under load', { timeout: 60_000 }, () => {
  it('swaps good files within two intervals and never a broken one, with no failed request', async () => {
    const path = join(dir, 'current.mmdb');
    await writeFile(path, countryDb('GB', 10));
    const logger = memoryLogger();
    const core = createIpMatch({
      provider: localProvider({ database: path, reload: { intervalMs: INTERVAL_MS } }),
      mode: 'observe',
      logger,
    });
    await core.ready();
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(express.json());
    app.post('/signup', ipMatch(core), (req, res) => {
      res.json({ country: req.ipMatch?.ip.country ?? null });
    });
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const t0 = performance.now();

    // The load: signups from the probe address and from others, so that the IP cache both hits and misses.
    let n = 0;
    const load = autocannon({
      url,
      connections: 4,
      duration: LOAD_S,
      sampleInt: 100,
      requests: [
        {
          method: 'POST',
          path: '/signup',
          setupRequest(request) {
            const ip = n++ % 2 === 0 ? PROBE_IP : `1.${n % 250}.${(n >> 8) % 250}.7`;
            request.headers = { 'content-type': 'application/json', 'x-forwarded-for': ip };
            request.body = `{"phone":"${GB_PHONE}"}`;
            return request;
          },
        },
      ],
    });

    // What a user on the probe address sees, every 25 ms, beside the load.
    const samples: Sample[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const sentAt = performance.now() - t0;
        const res = await fetch(`${url}/signup`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': PROBE_IP },
          body: JSON.stringify({ phone: GB_PHONE }),
        });
        const body = (await res.json()) as { country: string | null };
        samples.push({
          sentAt,
          receivedAt: performance.now() - t0,
          country: body.country,
          status: res.status,
        });
        await new Promise((r) => setTimeout(r, 25));
      }
    })();

    // The replacements, as the updater makes them: a whole file beside the current one, then a rename.
    const replacedAt: number[] = [];
    for (const [i, r] of REPLACEMENTS.entries()) {
      const due = FIRST_AT_MS + i * EVERY_MS - (performance.now() - t0);
      if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
      const tmp = `${path}.${i}.tmp`;
      await writeFile(tmp, r.bytes);
      await rename(tmp, path);
      replacedAt.push(performance.now() - t0);
    }

    const result = await load;
    sampling = false;
    await sampler;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await core.close();

    expect(result.non2xx).toBe(0);
    expect(result.errors + result.timeouts).toBe(0);
    expect(result.requests.total).toBeGreaterThan(1000);
    expect(samples.every((s) => s.status === 200)).toBe(true);
    // One warning per broken file, and nothing per request.
    expect(logger.lines.map((l) => `${l.level} ${(l.meta as { code?: string }).code}`)).toEqual(
      Array(5).fill('warn IPMATCH_DATA_RELOAD_FAILED'),
    );

    let country = 'GB';
    for (const [i, r] of REPLACEMENTS.entries()) {
      const from = replacedAt[i]!;
      const until = replacedAt[i + 1] ?? Number.POSITIVE_INFINITY;
      if (r.country !== null) {
        // A good file: every sample sent two intervals after the rename already sees it.
        country = r.country;
        const settled = samples.filter((s) => s.sentAt >= from + 2 * INTERVAL_MS && s.receivedAt < until);
        expect(settled.length, `samples after the ${r.what} swap`).toBeGreaterThan(0);
        expect(
          settled.map((s) => s.country),
          `after the ${r.what} swap`,
        ).toEqual(settled.map(() => country));
      } else {
        // A broken file: decisions stay on the last good data until the next replacement.
        const kept = samples.filter((s) => s.sentAt >= from && s.receivedAt < until);
        expect(kept.length, `samples after the ${r.what} file`).toBeGreaterThan(0);
        expect(
          kept.map((s) => s.country),
          `after the ${r.what} file`,
        ).toEqual(kept.map(() => country));
      }
    }
  });
});
