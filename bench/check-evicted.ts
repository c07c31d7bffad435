/**
 * A warm check as a live server runs it: the CPU caches evicted before each call. A route server runs tens of
 * µs of framework code between two checks, so a check there finds its code and data out of the L1/L2 caches,
 * where a loop of checks keeps them in. This times the route's compiled check, and each part of it, on the hot
 * stream's 64 signups, each call after a sweep over `--evict` MB (0: the loop as check-throughput.ts runs it).
 * `--stream=cold` gives every call a new signup of the cold stream (a new number and a new IP), and adds the
 * check with `velocity: false` beside the default one.
 *
 *   npx tsx bench/check-evicted.ts [--stream=hot|cold] [--evict=8] [--calls=3000] [--runs=5]
 */
import './plain-stacks.js';
import { internals } from '../src/core/internal.js';
import { normalizeIp } from '../src/core/ip.js';
import { phoneType } from '../src/core/phone-type.js';
import { createIpMatch } from '../src/create-ip-match.js';
import { localProvider } from '../src/providers/local.js';
import { median, round } from './stats.js';
import { buildStreams } from './streams.js';

const arg = (name: string, fallback: string) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const evictMb = arg('evict', '8');
const calls = arg('calls', '3000');
const runs = arg('runs', '5');
const cold = process.argv.includes('--stream=cold');

const provider = localProvider();
const core = createIpMatch({ provider, logger: { warn() {}, error() {} } });
await core.ready();
const inner = internals(core)!;
const route = inner.compileRoute({});
const noVelocity = createIpMatch({ provider, velocity: false, logger: { warn() {}, error() {} } });
const innerNoVelocity = internals(noVelocity)!;
const routeNoVelocity = innerNoVelocity.compileRoute({});
const streams = buildStreams();
// Cold: each part gets a range of signups of its own, so that every call sees a number and an IP that no call
// before it (of any part: they share the provider's tables) has seen.
const PARTS = 7;
const coldWarmup = 20_000;
const perPart = coldWarmup + runs * calls;
const signups = cold
  ? Array.from({ length: Math.min(streams.coldCapacity, PARTS * perPart) }, (_, k) => streams.cold(k))
  : streams.hot.map((s) => ({ phone: s.phone, ip: s.ip }));
// Parsed through a provider of its own, so that the phone-parse part finds none of these in its memo.
const parser = localProvider();
const parsedCache = new Map<number, ReturnType<typeof parser.parsePhone>>();
const parsed = (i: number) => {
  let p = parsedCache.get(i);
  if (p === undefined) {
    p = parser.parsePhone(signups[i]!.phone, undefined);
    parsedCache.set(i, p);
  }
  return p!;
};

/** The route's check, and the parts of it that touch their own tables. */
const parts: Record<string, (i: number) => unknown> = {
  'check (route)': (i) => inner.check(signups[i]!, route),
  ...(cold
    ? { 'check, velocity off': (i: number) => innerNoVelocity.check(signups[i]!, routeNoVelocity) }
    : {}),
  'phone parse': (i) => provider.parsePhone(signups[i]!.phone, undefined),
  normalizeIp: (i) => normalizeIp(signups[i]!.ip),
  'GeoIP country': (i) => provider.ipCountry(signups[i]!.ip),
  'phone type': (i) => phoneType(parsed(i).number, parsed(i).country),
  'timer alone': () => 0,
};

const sweep = new Float64Array((evictMb * 1024 * 1024) / 8);
let sink = 0;
/** Reads and writes one double per 64-byte line: every line of the sweep ends up in the caches. */
const evict = () => {
  for (let j = 0; j < sweep.length; j += 8) sink += sweep[j]!++;
};

// Hot: warm every table on the 64 signups. Cold: warm the code on the first signups of each part's range.
const names = Object.keys(parts);
const warmup = cold ? coldWarmup : 100_000;
names.forEach((name, p) => {
  for (let i = 0; i < warmup; i++) parts[name]!(cold ? p * perPart + i : i % signups.length);
});
const next = Object.fromEntries(names.map((name, p) => [name, p * perPart + warmup]));
// The phone type's numbers parsed before any is timed (and the type's first use is not after its own parse).
const typeFrom = cold ? next['phone type']! : 0;
for (let i = typeFrom; i < (cold ? typeFrom + runs * calls : signups.length); i++) parsed(i);
const perRun: Record<string, number[]> = Object.fromEntries(Object.keys(parts).map((name) => [name, []]));
for (let r = 0; r < runs; r++) {
  for (const [name, f] of Object.entries(parts)) {
    let ms = 0;
    for (let i = 0; i < calls; i++) {
      const k = cold ? next[name]!++ % signups.length : i % signups.length;
      evict();
      const start = performance.now();
      f(k);
      ms += performance.now() - start;
    }
    perRun[name]!.push((ms / calls) * 1000);
  }
}
console.log(
  `${cold ? 'cold' : 'hot'} stream, µs per call, ${evictMb} MB swept before each, median of ${runs} runs of ${calls} (sink ${sink > 0})`,
);
for (const [name, us] of Object.entries(perRun)) console.log(`  ${name.padEnd(14)} ${round(median(us), 2)}`);
