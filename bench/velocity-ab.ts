/**
 * Velocity in memory, trees side by side in ONE process (a same-run A/B on a busy machine): each tree given is a
 * checkout of ipmatch (e.g. `git archive <commit> | tar -x -C /tmp/old`, node_modules linked), loaded as its own
 * modules; variants alternate, in reversed order every other round. Without --check it times the velocity
 * source's `count` alone (hot: the hot stream's 64 signups repeating; cold: 300,000 distinct signups cycling
 * through tables at their bound), in µs per count; with --check, `core.check` of each tree's default core
 * (warm: the hot stream; cold: new signups, the same for every variant in a round), in checks/s, and the process's
 * CPU µs per check (every thread: GC helpers included). With --flat the cold signups are made flat strings
 * through JSON, as a body parser gives them (the stream builds its phones by concatenation). With --check --cycle
 * the cold checks are bench/velocity.ts's: the same 100,000 signups over and over (each one's keys held, its
 * members known, its caches long evicted), where the default's are new ones. Medians, and the median of each
 * round's ratio to the first tree. By hand:
 *
 *   npx tsx bench/velocity-ab.ts [--check [--flat | --cycle]] [--rounds=N] /tmp/old .
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { SignalContext } from '../src/core/signal-source.js';
import { median } from './stats.js';
import { buildStreams, type Signup } from './streams.js';

const dirs = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 15);
const streams = buildStreams();

/** `a`'s median, and the median over rounds of a / the first variant's figure of the same round. */
function report(
  variants: readonly { dir: string; a: number[]; b: number[] }[],
  unit: string,
  names: [string, string],
) {
  const first = variants[0]!;
  const digits = unit === 'checks/s' ? 0 : 3;
  for (const v of variants) {
    const ratio = (xs: number[], ys: number[]) => median(xs.map((x, i) => x / ys[i]!)).toFixed(3);
    process.stdout.write(
      `${v.dir.padEnd(20)} ${names[0]} ${median(v.a).toFixed(digits)} ${names[1]} ${median(v.b).toFixed(digits)} ${unit}` +
        `  (÷ first: ${ratio(v.a, first.a)}, ${ratio(v.b, first.b)})\n`,
    );
  }
}

async function counts() {
  let clock = 1_700_000_000_000;
  const now = () => clock;
  const ctxOf = (s: Signup): SignalContext => ({
    phone: {
      number: parsePhoneNumberFromString(s.phone)?.number ?? null,
      country: 'GB',
      roamingCountry: null,
      type: null,
    },
    ip: { address: s.ip, country: 'GB', network: null },
    route: { readsIpHeader: false },
    ipPublic: true,
    now,
  });
  const hot = streams.hot.map(ctxOf);
  const cold = Array.from({ length: 300_000 }, (_, k) => ctxOf(streams.cold(k)));
  const variants = await Promise.all(
    dirs.map(async (dir) => {
      const { memoryCounting } = await import(`${dir}/src/signals/velocity/memory-source.ts`);
      const { velocitySettings } = await import(`${dir}/src/core/velocity-options.ts`);
      const c = memoryCounting(velocitySettings(undefined, undefined), () => true, now);
      return { dir, c, a: [] as number[], b: [] as number[] };
    }),
  );
  const run = (c: (typeof variants)[number]['c'], list: readonly SignalContext[], n: number) => {
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      if ((i & 7) === 0) clock++;
      c.count(list[i % list.length]!, false);
    }
    return ((performance.now() - start) * 1000) / n;
  };
  for (const v of variants) run(v.c, cold, cold.length);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...variants].reverse() : variants;
    for (const v of order) v.a.push(run(v.c, hot, 500_000));
    for (const v of order) v.b.push(run(v.c, cold, 150_000));
  }
  report(variants, 'µs per count', ['hot', 'cold']);
}

async function checks() {
  const quiet = { warn() {}, error() {} };
  const variants = await Promise.all(
    dirs.map(async (dir) => {
      const { createIpMatch } = await import(`${dir}/src/create-ip-match.ts`);
      const core = createIpMatch({ logger: quiet });
      for (const s of streams.hot) await core.check(s);
      return { dir, core, a: [] as number[], b: [] as number[], cpuA: [] as number[], cpuB: [] as number[] };
    }),
  );
  const time = async (
    v: (typeof variants)[number],
    inputs: readonly Signup[],
    count: number,
    cpu: number[],
  ) => {
    const used = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < count; i++) await v.core.check(inputs[i % inputs.length]!);
    const rate = count / ((performance.now() - start) / 1000);
    const { user, system } = process.cpuUsage(used);
    cpu.push((user + system) / count);
    return rate;
  };
  let cursor = 0;
  const flat = process.argv.includes('--flat');
  const cycle = process.argv.includes('--cycle')
    ? Array.from({ length: 100_000 }, (_, k) => streams.cold(k % streams.coldCapacity))
    : null;
  if (cycle) for (const v of variants) await time(v, cycle, cycle.length, []);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...variants].reverse() : variants;
    for (const v of order) v.a.push(await time(v, streams.hot, 200_000, v.cpuA));
    let fresh = cycle ?? Array.from({ length: 20_000 }, () => streams.cold(cursor++));
    if (flat) fresh = JSON.parse(JSON.stringify(fresh)) as Signup[];
    for (const v of order) v.b.push(await time(v, fresh, fresh.length, v.cpuB));
  }
  report(variants, 'checks/s', ['warm', 'cold']);
  report(
    variants.map((v) => ({ dir: v.dir, a: v.cpuA, b: v.cpuB })),
    'CPU µs per check',
    ['warm', 'cold'],
  );
}

await (process.argv.includes('--check') ? checks() : counts());
