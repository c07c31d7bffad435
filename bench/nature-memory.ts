/**
 * What the IP-nature data costs a process's memory: fresh processes, each building a core with the default
 * provider (the bundled snapshot loaded at `ready()`) or with `localProvider({ ipNature: false })`, deciding
 * 200 checks and collecting garbage, in alternating pairs; the figure is the median of the per-pair differences
 * of RSS (target: at most 15 MB).
 *
 *   npx tsx bench/nature-memory.ts [--pairs=7]
 *
 * Prints one JSON object on stdout ({ rssAddedMB, heapAddedMB, arrayBuffersAddedMB, fileKB, pairs }).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { median, round } from './stats.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const MB = 1_048_576;

interface Footprint {
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
}

/** Child mode: one core, with or without the family, 200 checks, a full GC; prints its memoryUsage(). */
async function child(withNature: boolean): Promise<void> {
  const { createIpMatch } = await import('../src/create-ip-match.js');
  const { localProvider } = await import('../src/providers/local.js');
  const core = createIpMatch({
    logger: { warn() {}, error() {} },
    provider: localProvider(withNature ? {} : { ipNature: false }),
  });
  await core.ready();
  const listed = ['3.2.48.1', '204.8.96.141', '2620:7:6003::141', '37.19.200.130', '104.28.137.110'];
  for (let i = 0; i < 200; i++) {
    const ip = i % 4 === 0 ? listed[i % listed.length]! : `81.${i % 200}.${(i * 7) % 250}.9`;
    await core.check({ ip, phone: '+447400123456' });
  }
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed, arrayBuffers } = process.memoryUsage();
  await core.close();
  console.log(JSON.stringify({ rss, heapUsed, arrayBuffers } satisfies Footprint));
}

const self = fileURLToPath(import.meta.url);
async function inChild(mode: 'with' | 'without', dataDir: string): Promise<Footprint> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', self, `--child=${mode}`],
    { encoding: 'utf8', env: { ...process.env, IPMATCH_DATA_DIR: dataDir } },
  );
  return JSON.parse(stdout);
}

async function main(): Promise<void> {
  const pairs = Number(arg('pairs') ?? 7);
  // An empty data dir: the bundled snapshot is what loads, never a developer's own updated file.
  const dataDir = mkdtempSync(join(tmpdir(), 'ipmatch-bench-nature-mem-'));
  const diffs: Footprint[] = [];
  try {
    for (let i = 0; i < pairs; i++) {
      const [a, b] = i % 2 === 0 ? (['with', 'without'] as const) : (['without', 'with'] as const);
      const first = await inChild(a, dataDir);
      const second = await inChild(b, dataDir);
      const [withF, withoutF] = a === 'with' ? [first, second] : [second, first];
      diffs.push({
        rss: withF.rss - withoutF.rss,
        heapUsed: withF.heapUsed - withoutF.heapUsed,
        arrayBuffers: withF.arrayBuffers - withoutF.arrayBuffers,
      });
      process.stderr.write(
        `pair ${i + 1}/${pairs}: ${round((withF.rss - withoutF.rss) / MB, 1)} MB more RSS\n`,
      );
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  const { bundledNaturePath } = await import('../src/geodata/nature/index.js');
  console.log(
    JSON.stringify({
      rssAddedMB: round(median(diffs.map((d) => d.rss)) / MB, 1),
      heapAddedMB: round(median(diffs.map((d) => d.heapUsed)) / MB, 1),
      arrayBuffersAddedMB: round(median(diffs.map((d) => d.arrayBuffers)) / MB, 1),
      rssAddedAllMB: diffs.map((d) => round(d.rss / MB, 1)),
      fileKB: Math.round(statSync(bundledNaturePath()).size / 1024),
      pairs,
    }),
  );
}

const mode = arg('child');
if (mode) await child(mode === 'with');
else await main();
