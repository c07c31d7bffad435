/**
 * `npm run bench`: the whole suite, a table on stdout and bench/results.json. See bench/README.md.
 *
 *   npx tsx bench/run.ts [--quick] [--rounds=N] [--burst=seconds] [--schedule=in-turn|together]
 *                        [--only=route,check,nature,remote,cold-start,memory,report,scaling] [--servers=bare,floor,ipmatch,…]
 *
 * A new part is one entry in PARTS (what to log, how to run it), one field in `Figures`, and its targets in
 * targets.ts and lines in report.ts.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import type { CheckThroughput } from './check-throughput.js';
import { benchFile, runChild } from './children.js';
import type { ColdStart } from './cold-start.js';
import { measureMemory } from './memory.js';
import type { NatureCost } from './nature.js';
import { report } from './report.js';
import type { ReportSpeed } from './report-speed.js';
import { ALL_SERVERS, DEFAULT_SERVERS, routeOverhead, type ServerName } from './route-overhead.js';
import type { ScalingRow } from './scaling.js';
import { buildStreams } from './streams.js';
import { evaluate, type Figures } from './targets.js';
import type { VonagePath } from './vonage-path.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = process.argv.includes('--quick');
const rounds = Number(arg('rounds') ?? (quick ? 1 : 21));
const burstSeconds = Number(arg('burst') ?? 1);
const schedule = arg('schedule') === 'together' ? 'together' : 'in turn';
const servers = (arg('servers')?.split(',') ?? DEFAULT_SERVERS) as ServerName[];
for (const s of servers) {
  if (!ALL_SERVERS.includes(s))
    throw new Error(`--servers: unknown server "${s}" (${ALL_SERVERS.join(', ')})`);
}
const flags = quick ? ['--quick'] : [];
const log = (line: string) => process.stderr.write(`${line}\n`);

const started = performance.now();
const load = loadavg().map((x) => Number(x.toFixed(2)));
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGB: Math.round(totalmem() / 2 ** 30),
  os: `${process.platform} ${release()}`,
  loadAverageAtStart: load,
};
const streams = buildStreams();
const figures: Figures & { scaling?: ScalingRow[]; nature?: NatureCost } = {};

// Each part in the order it runs: what it logs, and what it puts into `figures`.
const PARTS = {
  route: {
    log: `route overhead: ${rounds} round(s)…`,
    run: async () => {
      figures.route = await routeOverhead(streams, { servers, rounds, burstSeconds, schedule, log });
    },
  },
  check: {
    log: 'check() throughput…',
    run: async () => {
      figures.check = await runChild<CheckThroughput>('check-throughput.ts', flags);
    },
  },
  remote: {
    log: 'remote path (vonageProvider, then identityInsightsProvider) and hung upstream…',
    run: async () => {
      figures.remote = [
        await runChild<VonagePath>('vonage-path.ts', flags),
        await runChild<VonagePath>('vonage-path.ts', [...flags, '--provider=identity-insights']),
      ];
    },
  },
  'cold-start': {
    log: 'cold start (whole processes, from dist/)…',
    run: async () => {
      figures.coldStart = await runChild<ColdStart>('cold-start.ts', flags);
    },
  },
  nature: {
    log: 'IP-nature signals: check() with and without them, and the table lookup…',
    run: async () => {
      figures.nature = await runChild<NatureCost>('nature.ts', flags);
    },
  },
  memory: {
    log: 'memory…',
    run: async () => {
      figures.memory = await measureMemory(Array.from({ length: 20 }, (_, k) => streams.cold(k)));
    },
  },
  report: {
    log: 'ipmatch report on a million decision-log lines…',
    run: async () => {
      figures.report = await runChild<ReportSpeed>('report-speed.ts', flags);
    },
  },
  scaling: {
    log: 'scaling (10³, 10⁵, 10⁶ cached numbers)…',
    run: async () => {
      // Bytecode flushing would shrink the heap between the before and after readings of the small cache.
      figures.scaling = await runChild<ScalingRow[]>('scaling.ts', flags, [
        '--expose-gc',
        '--no-flush-bytecode',
      ]);
    },
  },
} satisfies Record<string, { log: string; run: () => Promise<void> }>;
type Part = keyof typeof PARTS;
const names = Object.keys(PARTS) as Part[];
const only = (arg('only')?.split(',') ?? names) as Part[];
for (const p of only)
  if (!names.includes(p)) throw new Error(`--only: unknown part "${p}" (${names.join(', ')})`);
for (const name of names) {
  if (!only.includes(name)) continue;
  log(PARTS[name].log);
  await PARTS[name].run();
}

const targets = evaluate(figures);
const seconds = Math.round((performance.now() - started) / 1000);
const date = new Date().toISOString();
const head =
  `ipmatch bench · ${date} · node ${process.version} · ${machine.cores}× ${machine.cpu} · ` +
  `load ${load.join(' ')} → ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} · ${seconds} s${quick ? ' · --quick' : ''}`;
console.log(report(figures, targets, head));
const results = {
  date,
  node: process.version,
  machine: { ...machine, loadAverageAtEnd: loadavg().map((x) => Number(x.toFixed(2))) },
  options: { quick, rounds, parts: only, servers, schedule },
  durationSeconds: seconds,
  streams: { hot: streams.hot.length, coldRegions: streams.regions.length, mismatchShare: 1 / 8 },
  ...figures,
  targets,
};
writeFileSync(benchFile('results.json'), `${JSON.stringify(results, null, 2)}\n`);
log(`wrote ${benchFile('results.json')}`);
