/**
 * A warm check as a live server runs it: the CPU caches evicted before each call. A route server runs tens of
 * µs of framework code between two checks, so a check there finds its code and data out of the L1/L2 caches,
 * where a loop of checks keeps them in. This times the route's compiled check, and each part of it, on the hot
 * stream's 64 signups, each call after a sweep over `--evict` MB (0: the loop as check-throughput.ts runs it).
 *
 *   npx tsx bench/check-evicted.ts [--evict=8] [--calls=3000] [--runs=5]
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

const provider = localProvider();
const core = createIpMatch({ provider, logger: { warn() {}, error() {} } });
await core.ready();
const inner = internals(core)!;
const route = inner.compileRoute({});
const hot = buildStreams().hot.map((s) => ({ phone: s.phone, ip: s.ip }));
const parsed = hot.map((s) => provider.parsePhone(s.phone, undefined)!);

/** The route's check, and the parts of it that touch their own tables. */
const parts: Record<string, (i: number) => unknown> = {
  'check (route)': (i) => inner.check(hot[i]!, route),
  'phone parse': (i) => provider.parsePhone(hot[i]!.phone, undefined),
  normalizeIp: (i) => normalizeIp(hot[i]!.ip),
  'GeoIP country': (i) => provider.ipCountry(hot[i]!.ip),
  'phone type': (i) => phoneType(parsed[i]!.number, parsed[i]!.country),
  'timer alone': () => 0,
};

const sweep = new Float64Array((evictMb * 1024 * 1024) / 8);
let sink = 0;
/** Reads and writes one double per 64-byte line: every line of the sweep ends up in the caches. */
const evict = () => {
  for (let j = 0; j < sweep.length; j += 8) sink += sweep[j]!++;
};

for (const f of Object.values(parts)) for (let i = 0; i < 100_000; i++) f(i % hot.length);
const perRun: Record<string, number[]> = Object.fromEntries(Object.keys(parts).map((name) => [name, []]));
for (let r = 0; r < runs; r++) {
  for (const [name, f] of Object.entries(parts)) {
    let ms = 0;
    for (let i = 0; i < calls; i++) {
      evict();
      const start = performance.now();
      f(i % hot.length);
      ms += performance.now() - start;
    }
    perRun[name]!.push((ms / calls) * 1000);
  }
}
console.log(
  `µs per call, ${evictMb} MB swept before each, median of ${runs} runs of ${calls} (sink ${sink > 0})`,
);
for (const [name, us] of Object.entries(perRun)) console.log(`  ${name.padEnd(14)} ${round(median(us), 2)}`);
