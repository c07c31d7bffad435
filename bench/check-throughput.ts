/**
 * `check()` throughput of the offline default core, on one core, in checks per second: each check awaited
 * before the next, as a request handler would. Run as a child of bench/run.ts, or by hand:
 *
 *   npx tsx bench/check-throughput.ts [--quick]
 */
import './plain-stacks.js';
import { parsePhoneFast } from '../src/core/phone.js';
import { createIpMatch } from '../src/create-ip-match.js';
import { reply } from './children.js';
import { median, round } from './stats.js';
import { buildStreams, type Signup } from './streams.js';

export interface CheckThroughput {
  /** The hot stream's 64 signups, repeating: every phone and IP a cache hit. */
  warm: number;
  /** Every signup a new phone and a new IP (the cold stream). */
  cold: number;
  /** A new phone each time, with the hot stream's IPs: what a new number alone costs. */
  coldPhone: number;
  /** A new IP each time, with the hot stream's phones: what a new IP alone costs. */
  coldIp: number;
  /**
   * Process CPU per check (every thread), in µs, warm and cold. Beside 1e6 / checks per second (the main
   * thread's time per check), it shows what V8's GC helper threads add.
   */
  cpuUsPerCheck: { warm: number; cold: number };
  /** Share of the cold stream's phones the calling-code fast path decides without the full parse. */
  fastPathShare: number;
  checksPerRun: { warm: number; cold: number };
  runs: number;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const runs = quick ? 3 : 7;
  const WARM = 200_000;
  const COLD = 20_000;
  const streams = buildStreams();
  const ipm = createIpMatch({ logger: { warn() {}, error() {} } });
  // Loads the GeoIP data and compiles what the first check compiles.
  for (const s of streams.hot) await ipm.check(s);

  const cpu: Record<'warm' | 'cold', number[]> = { warm: [], cold: [] };
  const time = async (inputs: readonly Signup[], count: number, kind?: 'warm' | 'cold') => {
    const n = inputs.length;
    const used = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < count; i++) await ipm.check(inputs[i % n]!);
    const rate = count / ((performance.now() - start) / 1000);
    const { user, system } = process.cpuUsage(used);
    if (kind) cpu[kind].push((user + system) / count);
    return rate;
  };
  const medianRate = async (measure: () => Promise<number>) => {
    const rates: number[] = [];
    for (let r = 0; r < runs; r++) rates.push(await measure());
    return median(rates);
  };
  let cursor = 0;
  const fresh = (count: number) => Array.from({ length: count }, () => streams.cold(cursor++));
  const hot = streams.hot;

  const warm = await medianRate(() => time(hot, WARM, 'warm'));
  const cold = await medianRate(() => time(fresh(COLD), COLD, 'cold'));
  const coldPhone = await medianRate(() =>
    time(
      fresh(COLD).map((s, i) => ({ phone: s.phone, ip: hot[i % hot.length]!.ip })),
      COLD,
    ),
  );
  const coldIp = await medianRate(() =>
    time(
      fresh(COLD).map((s, i) => ({ phone: hot[i % hot.length]!.phone, ip: s.ip })),
      COLD,
    ),
  );
  const sample = fresh(COLD);
  const fast = sample.filter((s) => parsePhoneFast(s.phone) !== undefined).length;
  const result: CheckThroughput = {
    warm: Math.round(warm),
    cold: Math.round(cold),
    coldPhone: Math.round(coldPhone),
    coldIp: Math.round(coldIp),
    cpuUsPerCheck: { warm: round(median(cpu.warm), 2), cold: round(median(cpu.cold), 2) },
    fastPathShare: round(fast / sample.length),
    checksPerRun: { warm: WARM, cold: COLD },
    runs,
  };
  await ipm.close();
  reply(result);
}

await main();
