/**
 * What the IP-nature signals add to a check: `check()` with the family and without it (`ipNature: false`), in
 * the same process and interleaved, so that the difference is the family's alone; and the bare table lookup.
 * Run as a child of bench/run.ts (`--only=nature`), or by hand:
 *
 *   npx tsx bench/nature.ts [--quick]
 */
import './plain-stacks.js';
import { createIpMatch } from '../src/create-ip-match.js';
import { bundledNaturePath, loadNatureTable } from '../src/geodata/nature/index.js';
import { localProvider } from '../src/providers/local.js';
import { reply } from './children.js';
import { median, round } from './stats.js';
import { buildStreams, type Signup } from './streams.js';

/** µs per check, the median of interleaved runs. */
export interface NatureCost {
  /** Per stream: with the four signals, without them, and the difference (the budget is 0.3 µs). */
  perCheck: Record<'hot' | 'cold' | 'listed', { withUs: number; withoutUs: number; addedUs: number }>;
  /** The table's lookup alone, in µs: IPv4 and IPv6 addresses that no list holds, and listed ones. */
  lookupUs: { v4Miss: number; v6Miss: number; listed: number };
  checksPerRun: number;
  runs: number;
}

// Addresses of the bundled lists (aws, tor v4 and v6, mullvad in hosting space, an iCloud Private Relay egress).
const LISTED = ['3.2.48.1', '204.8.96.141', '2620:7:6003::141', '37.19.200.130', '104.28.137.110'];

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const runs = quick ? 3 : 9;
  const N = quick ? 20_000 : 100_000;
  const streams = buildStreams();
  const quiet = { warn() {}, error() {} };
  const withFamily = createIpMatch({ logger: quiet });
  const without = createIpMatch({ logger: quiet, provider: localProvider({ ipNature: false }) });
  await Promise.all([withFamily.ready(), without.ready()]);

  const cold = Array.from({ length: N }, (_, k) => streams.cold(k));
  const inputs: Record<keyof NatureCost['perCheck'], readonly Signup[]> = {
    hot: streams.hot,
    cold,
    listed: LISTED.map((ip, i) => ({ phone: streams.hot[i]!.phone, ip })),
  };
  const time = async (core: typeof without, list: readonly Signup[]) => {
    const n = list.length;
    const start = performance.now();
    for (let i = 0; i < N; i++) await core.check(list[i % n]!);
    return ((performance.now() - start) * 1000) / N;
  };
  const perCheck = {} as NatureCost['perCheck'];
  for (const stream of Object.keys(inputs) as (keyof typeof inputs)[]) {
    const w: number[] = [];
    const wo: number[] = [];
    await time(withFamily, inputs[stream]); // warm both paths first
    await time(without, inputs[stream]);
    for (let r = 0; r < runs; r++) {
      // Alternating which goes first keeps drift (GC, a busy neighbour) out of the difference.
      if (r % 2) wo.push(await time(without, inputs[stream]));
      w.push(await time(withFamily, inputs[stream]));
      if (!(r % 2)) wo.push(await time(without, inputs[stream]));
    }
    const withUs = median(w);
    const withoutUs = median(wo);
    perCheck[stream] = {
      withUs: round(withUs, 3),
      withoutUs: round(withoutUs, 3),
      addedUs: round(withUs - withoutUs, 3),
    };
  }

  const table = loadNatureTable(bundledNaturePath());
  const lookup = (addresses: readonly string[]) => {
    const n = addresses.length;
    const rates: number[] = [];
    let sink = 0;
    for (let r = 0; r < runs; r++) {
      const start = performance.now();
      for (let i = 0; i < N * 10; i++) if (table.lookup(addresses[i % n]!) !== null) sink++;
      rates.push(((performance.now() - start) * 1000) / (N * 10));
    }
    if (sink < 0) console.log(sink);
    return round(median(rates), 4);
  };
  const v4 = cold.map((s) => s.ip).filter((ip) => !ip.includes(':') && table.lookup(ip) === null);
  const v6 = Array.from(
    { length: 1024 },
    (_, i) => `2a02:c7c:${((i * 7919) % 65536).toString(16)}::${i.toString(16)}`,
  );
  const result: NatureCost = {
    perCheck,
    lookupUs: { v4Miss: lookup(v4), v6Miss: lookup(v6), listed: lookup(LISTED) },
    checksPerRun: N,
    runs,
  };
  await Promise.all([withFamily.close(), without.close()]);
  reply(result);
}

await main();
