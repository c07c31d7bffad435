/**
 * Velocity's count as a live server runs it, trees side by side in ONE process: the CPU caches swept before each
 * call (a server runs 40–200 µs of framework code between two checks), the trees' calls interleaved one by one,
 * so that every variant sees the same machine at the same moment. Without --check it times the in-memory
 * source's `count` alone on the hot stream's 64 signups (strings made as a body parser and a header give them,
 * the real clock); with --check, each tree's compiled route check (every default signal), and beside it the same
 * check with `velocity: false` of the first tree. Medians over runs of µs per call, and of each run's difference
 * to the first variant.
 *
 *   npx tsx bench/velocity-evicted-ab.ts [--check] [--evict=2] [--calls=4000] [--runs=9] /tmp/old /work/main
 */
import type { SignalContext } from '../src/core/signal-source.js';
import { median } from './stats.js';
import { buildStreams } from './streams.js';

const arg = (name: string, fallback: string) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const dirs = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const evictMb = arg('evict', '2');
const calls = arg('calls', '4000');
const runs = arg('runs', '9');
const wholeCheck = process.argv.includes('--check');
const quiet = { warn() {}, error() {} };
// As the route gets them: the body's phone from JSON.parse, the IP from a header (new strings every request).
const signups = buildStreams().hot.map((s) => JSON.parse(JSON.stringify(s)) as { phone: string; ip: string });

type Call = (i: number) => unknown;
async function variant(dir: string, velocity = true): Promise<Call> {
  if (wholeCheck) {
    const { createIpMatch } = await import(`${dir}/src/create-ip-match.ts`);
    const { internals } = await import(`${dir}/src/core/internal.ts`);
    const inner = internals(createIpMatch(velocity ? { logger: quiet } : { logger: quiet, velocity: false }));
    const route = inner.compileRoute({});
    return (i) => {
      const s = signups[i]!;
      return inner.check({ phone: JSON.parse(`"${s.phone}"`), ip: `${s.ip} `.trim() }, route);
    };
  }
  const { memoryCounting } = await import(`${dir}/src/signals/velocity/memory-source.ts`);
  const { velocitySettings } = await import(`${dir}/src/core/velocity-options.ts`);
  const { localProvider } = await import(`${dir}/src/providers/local.ts`);
  const { normalizeIp } = await import(`${dir}/src/core/ip.ts`);
  const provider = localProvider();
  const counting = memoryCounting(velocitySettings(undefined, undefined), () => true, Date.now);
  // The phone parsed once per signup (the parser's own table answers a repeated one with the same object).
  const numbers = signups.map((s) => provider.parsePhone(s.phone, undefined)!.number as string);
  return (i) => {
    const s = signups[i]!;
    const ip = normalizeIp(`${s.ip} `.trim());
    const ctx: SignalContext = {
      phone: { number: numbers[i]!, country: 'GB', roamingCountry: null, type: null },
      ip: { address: ip.address, country: provider.ipCountry(ip.address!), network: null },
      route: { readsIpHeader: false },
      ipPublic: true,
      now: Date.now,
      velocity: undefined,
    };
    return counting.count(ctx, false);
  };
}

const names = [...dirs];
const fns: Call[] = [];
for (const dir of dirs) fns.push(await variant(dir));
if (wholeCheck) {
  names.push(`${dirs[0]} velocity off`);
  fns.push(await variant(dirs[0]!, false));
}
const sweep = new Float64Array((evictMb * 1024 * 1024) / 8);
let sink = 0;
const evict = () => {
  for (let j = 0; j < sweep.length; j += 8) sink += sweep[j]!++;
};
for (const f of fns) for (let i = 0; i < 50_000; i++) f(i % signups.length);
const perRun: number[][] = fns.map(() => []);
for (let r = 0; r < runs; r++) {
  const us = fns.map(() => 0);
  for (let i = 0; i < calls; i++) {
    for (let v = 0; v < fns.length; v++) {
      // Reversed order every other call: neither variant always runs right after the sweep's last line.
      const w = i & 1 ? fns.length - 1 - v : v;
      if (evictMb > 0) evict();
      const start = performance.now();
      fns[w]!(i % signups.length);
      us[w]! += performance.now() - start;
    }
  }
  for (const [v, ms] of us.entries()) perRun[v]!.push((ms / calls) * 1000);
}
console.log(
  `${wholeCheck ? 'check (route)' : 'velocity count'}, hot stream, ${evictMb} MB swept before each call, ` +
    `median of ${runs} runs of ${calls} (sink ${sink > 0}); µs per call (minus the first, same run)`,
);
names.forEach((name, v) => {
  const d = median(perRun[v]!.map((x, r) => x - perRun[0]![r]!));
  console.log(`  ${name.padEnd(28)} ${median(perRun[v]!).toFixed(3)} (${d >= 0 ? '+' : ''}${d.toFixed(3)})`);
});
