/**
 * ipmatch on each runtime, from the packed tarball: the cold start (import + first decision) and the
 * per-request cost of a Hono route with ipMatch beside a bare Hono route of the same app, on the same runtime,
 * measured the same way (in-process `app.fetch`, a GB and a KR signup in turn: a hot stream). Workers cannot
 * time themselves (their clock stands still while they compute), so workerd is timed from outside through
 * Miniflare, and against a bare worker for the cold start.
 *
 *   npx tsx bench/runtimes.ts [--runs=3] [--requests=2000]
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bundleForWorkers,
  INSTALL_RUNTIMES,
  installedMmdb,
  runtimeBinary,
  startWorkerd,
  type Workerd,
} from '../test/helpers/runtimes.js';
import { installTarball, root } from '../test/helpers/tarball.js';

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const runs = arg('runs', 3);
const requests = arg('requests', 2000);

const dir = installTarball('bench-runtimes');
for (const file of ['app.mjs', 'worker.mjs'])
  copyFileSync(join(root, 'test/fixtures/runtimes', file), join(dir, file));
copyFileSync(join(root, 'bench/runtimes-probe.mjs'), join(dir, 'probe.mjs'));

type Probe = { coldStartMs: number; bareUs: number; ipMatchUs: number; overheadUs: number; ratio: number };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const summary = (probes: Probe[]) => ({
  coldStartMs: median(probes.map((p) => p.coldStartMs)),
  bareUs: median(probes.map((p) => p.bareUs)),
  ipMatchUs: median(probes.map((p) => p.ipMatchUs)),
  overheadUs: median(probes.map((p) => p.overheadUs)),
  ratio: median(probes.map((p) => p.ratio)),
});

const commands: Record<string, [string, string[]] | undefined> = {
  node: [process.execPath, ['probe.mjs']],
  bun: runtimeBinary('bun') ? [runtimeBinary('bun')!, ['probe.mjs']] : undefined,
  deno: runtimeBinary('deno')
    ? [runtimeBinary('deno')!, ['run', '--allow-read', '--allow-env', '--allow-sys', 'probe.mjs']]
    : undefined,
};
const results: Record<string, unknown> = {};
for (const [name, command] of Object.entries(commands)) {
  if (!command) continue;
  const probes: Probe[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(command[0], [...command[1], String(requests)], { cwd: dir, encoding: 'utf8' });
    probes.push(JSON.parse(out.trim().split('\n').at(-1)!) as Probe);
  }
  results[name] = summary(probes);
}

// workerd: the same app bundled as Wrangler bundles it, and a bare worker for the baseline.
const mmdb = installedMmdb(dir);
const worker = await bundleForWorkers(join(dir, 'worker.mjs'), { minify: true });
const bareWorker = new TextEncoder().encode(
  'export default { fetch: async (r) => new Response(JSON.stringify({ created: true, body: await r.json() }), { status: 201 }) };',
);
// Miniflare lives in test/runtimes, out of the default install.
const start = (code: Uint8Array): Workerd => {
  const mf = startWorkerd([
    { type: 'ESModule', path: join(dir, 'worker.mjs'), contents: code },
    { type: 'Data', path: join(dir, 'geo.mmdb'), contents: mmdb },
  ]);
  if (!mf) throw new Error(`bench/runtimes.ts needs Miniflare for workerd: ${INSTALL_RUNTIMES}`);
  return mf;
};
const post = (mf: Workerd, path: string, ip: string) =>
  mf
    .dispatchFetch(`http://worker${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'cf-connecting-ip': ip },
      body: '{"phone":"+447400123456"}',
    })
    .then((r) => r.arrayBuffer());
const colds: { bare: number[]; ipMatch: number[] } = { bare: [], ipMatch: [] };
for (let i = 0; i < runs; i++) {
  for (const [kind, code, path] of [
    ['bare', bareWorker, '/'],
    ['ipMatch', worker, '/hono'],
  ] as const) {
    const t = performance.now();
    const mf = start(code);
    await post(mf, path, '81.2.69.160');
    colds[kind].push(performance.now() - t);
    await mf.dispose();
  }
}
const mf = start(worker);
const perRequest = async (path: string) => {
  const n = Math.min(requests, 1000);
  const t = performance.now();
  for (let i = 0; i < n; i++) await post(mf, path, i % 2 ? '81.2.69.160' : '211.234.0.1');
  return ((performance.now() - t) * 1000) / n;
};
await perRequest('/bare');
await perRequest('/hono');
const bare: number[] = [];
const guarded: number[] = [];
for (let round = 0; round < 5; round++) {
  bare.push(await perRequest('/bare'));
  guarded.push(await perRequest('/hono'));
}
await mf.dispose();
results.workerd = {
  coldStartMs: median(colds.ipMatch),
  coldStartBareWorkerMs: median(colds.bare),
  bareUs: median(bare),
  ipMatchUs: median(guarded),
  overheadUs: median(guarded.map((g, i) => g - bare[i]!)),
  ratio: median(guarded.map((g, i) => g / bare[i]!)),
  bundleKiB: Math.round(worker.byteLength / 1024),
};
console.log(JSON.stringify(results, null, 2));
