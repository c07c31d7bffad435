/**
 * The GeoIP refresh path, measured on the real bundled MMDB (about 8 MB):
 *
 *   npx tsx bench/data-update.ts [--rounds=3] [--burst=5] [--only=update]
 *
 * 1. `updateDatabase()` of the file from a loopback server, in a fresh process: wall time, and peak RSS
 *    beside a same-run baseline process that only imports ipmatch.
 * 2. The swap in a running provider: `reload()` of a replaced file (read + validate + swap), median of 7.
 * 3. p99 latency of an Express route under autocannon, with the file replaced every second (reload every
 *    250 ms) and without, in alternating rounds.
 * `--only=update` runs part 1 alone. `--only=clients` instead gives the peak RSS of one GET of the file over
 * each HTTP client (Node's http, Node's fetch, undici's request), chunks dropped as they come, in fresh processes,
 * over one that sends none, in rotating order: what the updater's choice of client costs. Prints one JSON object on stdout; progress on stderr.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import express from 'express';
import { createIpMatch, localProvider, updateDatabase } from 'ipmatch';
import { ipMatch } from 'ipmatch/express';
import { bundledDatabasePath } from '../src/geodata/bundled.js';
import { median } from './stats.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const log = (line: string) => process.stderr.write(`${line}\n`);
const mb = (bytes: number) => Math.round((bytes / 1_048_576) * 10) / 10;

/** The HTTP clients `--only=clients` compares; 'none' sends no request. */
const CLIENTS = ['none', 'node-http', 'fetch', 'undici'] as const;

/** One GET of `url` over the named client, its body read chunk by chunk and each chunk dropped. */
async function clientGet(client: string, url: string): Promise<void> {
  if (client === 'node-http') {
    const http = await import('node:http');
    await new Promise((resolve, reject) => {
      http.get(url, (res) => res.on('end', resolve).resume()).on('error', reject);
    });
  } else if (client === 'fetch') {
    for await (const _ of (await fetch(url)).body ?? []);
  } else if (client === 'undici') {
    const { request } = await import('undici');
    for await (const _ of (await request(url)).body);
  }
}

/** Child mode: `--child=update <url> <dir>`, `--child=client:<name> <url>` or `--child=baseline`; prints { ms, maxRssMB }. */
async function child(mode: string, url: string, dir: string): Promise<void> {
  const started = performance.now();
  if (mode === 'update') await updateDatabase({ url, sha256Url: `${url}.sha256`, dir });
  if (mode.startsWith('client:')) await clientGet(mode.slice('client:'.length), url);
  const ms = performance.now() - started;
  // resourceUsage().maxRSS is in kB: the peak of the whole process, imports included.
  console.log(JSON.stringify({ ms, maxRssMB: mb(process.resourceUsage().maxRSS * 1024) }));
}

const self = fileURLToPath(import.meta.url);
async function inChild(args: string[]): Promise<{ ms: number; maxRssMB: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', self, ...args], {
    encoding: 'utf8',
  });
  return JSON.parse(stdout);
}

async function serve(bytes: Buffer): Promise<{ url: string; server: Server }> {
  const { createHash } = await import('node:crypto');
  const sum = `${createHash('sha256').update(bytes).digest('hex')}  user-country.mmdb\n`;
  const server = createServer((req, res) => {
    const body = req.url?.endsWith('.sha256') ? Buffer.from(sum) : bytes;
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/user-country.mmdb`, server };
}

async function main(): Promise<void> {
  const rounds = Number(arg('rounds') ?? 3);
  const burst = Number(arg('burst') ?? 5);
  const work = mkdtempSync(join(tmpdir(), 'ipmatch-bench-data-'));
  const bundled = bundledDatabasePath();
  const bytes = readFileSync(bundled);
  const { url, server } = await serve(bytes);
  try {
    if (arg('only') === 'clients') {
      const peaks: Record<string, number[]> = Object.fromEntries(CLIENTS.map((c) => [c, []]));
      for (let i = 0; i < rounds; i++) {
        const order = CLIENTS.map((_, k) => CLIENTS[(k + i) % CLIENTS.length]!);
        for (const client of order) {
          peaks[client]!.push((await inChild([`--child=client:${client}`, url])).maxRssMB);
        }
        log(`clients ${i + 1}/${rounds}: ${CLIENTS.map((c) => `${c} ${peaks[c]!.at(-1)} MB`).join(', ')}`);
      }
      const none = median(peaks.none!);
      const added = Object.fromEntries(
        CLIENTS.slice(1).map((c) => [c, Number((median(peaks[c]!) - none).toFixed(1))]),
      );
      console.log(JSON.stringify({ baselineRssMB: none, addedRssMB: added }, null, 2));
      return;
    }

    // 1. The update, in fresh processes, each beside a baseline run.
    const updates: { ms: number; maxRssMB: number }[] = [];
    const baselines: { ms: number; maxRssMB: number }[] = [];
    for (let i = 0; i < rounds; i++) {
      baselines.push(await inChild(['--child=baseline']));
      updates.push(await inChild(['--child=update', url, join(work, `u${i}`)]));
      log(
        `update ${i + 1}/${rounds}: ${Math.round(updates[i]!.ms)} ms, peak RSS ${updates[i]!.maxRssMB} MB ` +
          `(baseline ${baselines[i]!.maxRssMB} MB)`,
      );
    }
    const update = {
      medianMs: Math.round(median(updates.map((u) => u.ms))),
      peakRssMB: median(updates.map((u) => u.maxRssMB)),
      baselineRssMB: median(baselines.map((u) => u.maxRssMB)),
      addedRssMB: Number(median(updates.map((u, i) => u.maxRssMB - baselines[i]!.maxRssMB)).toFixed(1)),
    };
    if (arg('only') === 'update') {
      console.log(JSON.stringify({ fileMB: mb(bytes.length), update }, null, 2));
      return;
    }

    // 2. The swap in a running provider.
    const path = join(work, 'current.mmdb');
    copyFileSync(bundled, path);
    const provider = localProvider({ database: path, reload: { intervalMs: 3_600_000 }, maxAgeDays: 10_000 });
    await provider.ready();
    const swaps: number[] = [];
    for (let i = 0; i < 7; i++) {
      copyFileSync(bundled, `${path}.tmp`);
      renameSync(`${path}.tmp`, path);
      const t = performance.now();
      if (!(await provider.reload())) throw new Error('the replaced file was not swapped in');
      swaps.push(performance.now() - t);
    }
    await provider.close?.();
    log(`swap: median ${median(swaps).toFixed(1)} ms`);

    // 3. p99 under load, with and without swaps, in alternating rounds.
    const core = createIpMatch({
      provider: localProvider({ database: path, reload: { intervalMs: 250 }, maxAgeDays: 10_000 }),
    });
    await core.ready();
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(express.json());
    app.post('/signup', ipMatch(core), (_req, res) => {
      res.status(201).end();
    });
    const api: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const port = (api.address() as AddressInfo).port;
    let n = 0;
    const run = () =>
      autocannon({
        url: `http://127.0.0.1:${port}`,
        connections: 8,
        duration: burst,
        sampleInt: 100,
        requests: [
          {
            method: 'POST',
            path: '/signup',
            setupRequest(request) {
              n++;
              request.headers = {
                'content-type': 'application/json',
                'x-forwarded-for': `81.${n % 200}.${(n >> 8) % 250}.9`,
              };
              request.body = '{"phone":"+447400123456"}';
              return request;
            },
          },
        ],
      });
    const still: number[] = [];
    const swapping: number[] = [];
    for (let i = 0; i < rounds; i++) {
      still.push((await run()).latency.p99);
      const replacer = setInterval(() => {
        copyFileSync(bundled, `${path}.tmp`);
        renameSync(`${path}.tmp`, path);
      }, 1_000);
      const r = await run();
      clearInterval(replacer);
      swapping.push(r.latency.p99);
      log(`p99 round ${i + 1}/${rounds}: ${still[i]} ms without swaps, ${swapping[i]} ms with`);
    }
    await new Promise<void>((resolve) => api.close(() => resolve()));
    await core.close();

    console.log(
      JSON.stringify(
        {
          fileMB: mb(bytes.length),
          update,
          swapMs: { median: Number(median(swaps).toFixed(1)), all: swaps.map((s) => Number(s.toFixed(1))) },
          p99Ms: {
            withoutSwaps: median(still),
            withSwaps: median(swapping),
            ratio: Number((median(swapping) / median(still)).toFixed(2)),
          },
        },
        null,
        2,
      ),
    );
  } finally {
    server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

const mode = arg('child');
if (mode) await child(mode, process.argv[3] ?? '', process.argv[4] ?? '');
else await main();
