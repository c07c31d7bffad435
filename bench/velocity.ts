/**
 * What velocity costs in memory: `check()` with the family on (the default) and off (`velocity: false`), in one
 * process and interleaved, so that the difference is the family's alone (the budget is 1 µs); and the heap and
 * RSS that 1,000,000 distinct attackers' keys take (the budget is 100 MB) with the default bound (the tables
 * are typed arrays: their bytes are in arrayBuffers, not heapUsed). Run by hand (a quiet machine for final figures):
 *
 *   node --expose-gc --import tsx bench/velocity.ts [--quick]
 */
import './plain-stacks.js';
import type { SignalContext } from '../src/core/signal-source.js';
import { velocitySettings } from '../src/core/velocity-options.js';
import { createIpMatch } from '../src/create-ip-match.js';
import { DEFAULT_MAX_MEMBERS, MemoryCounters } from '../src/signals/velocity/memory-counters.js';
import { memoryCounting } from '../src/signals/velocity/memory-source.js';
import { median, round } from './stats.js';
import { buildStreams, type Signup } from './streams.js';

const quick = process.argv.includes('--quick');
const gc = (globalThis as { gc?: () => void }).gc;

/** µs per check with and without velocity, per stream: the median of interleaved runs. */
async function perCheck() {
  const runs = quick ? 3 : 9;
  const N = quick ? 20_000 : 100_000;
  const streams = buildStreams();
  const quiet = { warn() {}, error() {} };
  const on = createIpMatch({ logger: quiet });
  const off = createIpMatch({ logger: quiet, velocity: false });
  await Promise.all([on.ready(), off.ready()]);
  const cold = Array.from({ length: N }, (_, k) => streams.cold(k % streams.coldCapacity));
  const inputs: Record<'hot' | 'cold', readonly Signup[]> = { hot: streams.hot, cold };
  const time = async (core: typeof on, list: readonly Signup[]) => {
    const n = list.length;
    const start = performance.now();
    for (let i = 0; i < N; i++) await core.check(list[i % n]!);
    return ((performance.now() - start) * 1000) / N;
  };
  const out: Record<string, { onUs: number; offUs: number; addedUs: number }> = {};
  for (const stream of ['hot', 'cold'] as const) {
    const a: number[] = [];
    const b: number[] = [];
    await time(on, inputs[stream]);
    await time(off, inputs[stream]);
    for (let r = 0; r < runs; r++) {
      if (r % 2) b.push(await time(off, inputs[stream]));
      a.push(await time(on, inputs[stream]));
      if (!(r % 2)) b.push(await time(off, inputs[stream]));
    }
    const onUs = median(a);
    const offUs = median(b);
    out[stream] = { onUs: round(onUs), offUs: round(offUs), addedUs: round(onUs - offUs) };
  }
  await Promise.all([on.close(), off.close()]);
  return { perCheck: out, checksPerRun: N, runs };
}

/**
 * 1,000,000 attackers, each a new IP (in its own /24) and a new number (in its own block): four new keys per
 * check, counted by the family's own code. Heap and RSS after a full GC, against before.
 */
function attackerKeys(maxMembers: number) {
  gc?.();
  const before = process.memoryUsage();
  const counters = new MemoryCounters(maxMembers);
  const counting = memoryCounting(
    velocitySettings(undefined, undefined),
    () => true,
    () => 0,
    undefined,
    counters,
  );
  let most = 0;
  const started = performance.now();
  for (let i = 0; i < 1_000_000; i++) {
    const ctx: SignalContext = {
      phone: { number: `+44${7_000_000_000 + i * 1000}`, country: 'GB', roamingCountry: null, type: null },
      ip: { address: `${1 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}.9`, country: 'GB', network: null },
      route: { readsIpHeader: false },
      ipPublic: true,
      now: () => i,
    };
    counting.count(ctx, false);
    if ((i & 1023) === 0) most = Math.max(most, counters.keys);
  }
  const seconds = (performance.now() - started) / 1000;
  gc?.();
  const after = process.memoryUsage();
  const result = {
    maxMembers,
    keysHeld: counters.keys,
    mostKeysHeld: Math.max(most, counters.keys),
    heapMB: round((after.heapUsed - before.heapUsed) / 1e6, 1),
    arrayBuffersMB: round((after.arrayBuffers - before.arrayBuffers) / 1e6, 1),
    rssMB: round((after.rss - before.rss) / 1e6, 1),
    usPerAttackerCheck: round((seconds * 1e6) / 1_000_000, 2),
  };
  counters.clear();
  return result;
}

async function main() {
  if (!gc) process.stderr.write('run with node --expose-gc for the memory figures\n');
  const memory = [attackerKeys(DEFAULT_MAX_MEMBERS)];
  const cost = await perCheck();
  process.stdout.write(`${JSON.stringify({ ...cost, memory }, null, 2)}\n`);
}

await main();
