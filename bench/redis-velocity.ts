/**
 * The velocity counters on Redis: round trips per check, and the p99 they add to a check at 100 concurrent checks,
 * against a bare Redis round trip (GET) measured in the same run. The target (issue 23): added p99 ≤ 1.2 × the
 * bare round trip's p99, and one round trip per check.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx bench/redis-velocity.ts [--client=ioredis|node-redis] [--rounds=200]
 *                                                                     [--concurrency=100] [--warmup=10]
 *                                                                     [--auto-pipelining]
 *
 * Without REDIS_URL it starts its own redis-server (no persistence) on a free loopback port. Each round fires
 * `concurrency` operations at once of each kind, in a rotating order: a bare GET, one `store.distinct` with a
 * check's four counters, `check()` with velocity off, and `check()` with velocity on the RedisStore. Each
 * operation's latency is timed from the moment the batch is fired. Every check has a new number and IP, as a
 * flood of signups would. Prints JSON on stdout; the machine's load average beside it says how noisy it was.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { IpMatch } from '../src/core/types.js';
import { createIpMatch } from '../src/create-ip-match.js';
import { RedisStore } from '../src/stores/redis.js';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { median, percentile, round } from './stats.js';

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const clientKind = arg('client', 'ioredis') as 'ioredis' | 'node-redis';
// A GC pause or a stall delays a whole batch, `concurrency` samples at once: with 30 rounds (3,000 samples, the
// default until round five) one stalled batch was the whole-run p99 by itself. 200 rounds need two.
const rounds = Number(arg('rounds', '200'));
/** Rounds run and thrown away first: JIT, the script loaded, the phone metadata compiled (one until round five). */
const warmup = Number(arg('warmup', '10'));
const concurrency = Number(arg('concurrency', '100'));
/** ioredis's enableAutoPipelining: the commands of one tick in one socket write (default off, as ioredis's own). */
const autoPipelining = process.argv.includes('--auto-pipelining');
/** Only these kinds (names split by '|', e.g. `--only='check, velocity on Redis'`): for a CPU profile of one. */
const only = arg('only', '');

/** A Redis client of the chosen kind, wrapped to count the commands it sends, and a raw GET for the baseline. */
async function connect(url: string) {
  let commands = 0;
  if (clientKind === 'ioredis') {
    const redis = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      enableAutoPipelining: autoPipelining,
    });
    await new Promise((resolve) => redis.once('ready', resolve));
    const client = {
      call: (command: string, ...args: string[]) => {
        commands++;
        return redis.call(command, ...args);
      },
      get status() {
        return redis.status;
      },
    };
    return {
      client,
      get: (key: string) => redis.get(key),
      commands: () => commands,
      close: () => redis.disconnect(),
    };
  }
  const redis = createClient({ url, disableOfflineQueue: true });
  redis.on('error', () => {});
  await redis.connect();
  const client = {
    sendCommand: (args: string[]) => {
      commands++;
      return redis.sendCommand(args);
    },
    get isOpen() {
      return redis.isOpen;
    },
    get isReady() {
      return redis.isReady;
    },
  };
  return {
    client,
    get: (key: string) => redis.get(key),
    commands: () => commands,
    close: () => redis.destroy(),
  };
}

/** Fires `n` operations at once and answers each one's latency, in ms, from the moment the batch was fired. */
async function batch(n: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const fired = performance.now();
  return Promise.all(Array.from({ length: n }, (_, i) => op(i).then(() => performance.now() - fired)));
}

let sequence = 0;
/** A new UK mobile number and a new UK IP for each check. */
function signup(): { phone: string; ip: string } {
  const n = sequence++;
  return { phone: `+4474${String(10_000_000 + n).slice(-8)}`, ip: `81.2.${(n >> 8) & 255}.${n & 255}` };
}

/** Redis's own time per call of each command so far (INFO commandstats), in µs: calls and usec. */
async function commandStats(admin: Redis): Promise<Record<string, { calls: number; usec: number }>> {
  const stats: Record<string, { calls: number; usec: number }> = {};
  for (const line of (await admin.info('commandstats')).split('\n')) {
    const m = /^cmdstat_(\w+):calls=(\d+),usec=(\d+)/.exec(line);
    if (m) stats[m[1]!] = { calls: Number(m[2]), usec: Number(m[3]) };
  }
  return stats;
}

/** The redis-server's own CPU so far (INFO cpu: user + system of every thread), in µs. */
async function redisCpuUs(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

async function main(): Promise<void> {
  const own = process.env.REDIS_URL ? undefined : await startRedisServer();
  const url = process.env.REDIS_URL ?? own!.url;
  const conn = await connect(url);
  const prefix = `ipmatch-bench-velocity:${randomUUID()}:`;
  const store = new RedisStore({ client: conn.client, prefix, keySecret: 'bench-secret-0123456789abcdef' });
  const quiet = { warn() {}, error() {} };
  // A generous budget: the bench measures the counters, it must not cut them off as a 50 ms budget would.
  const on: IpMatch = createIpMatch({ logger: quiet, velocity: { store, timeoutMs: 5_000 } });
  const off: IpMatch = createIpMatch({ logger: quiet, velocity: false });
  await on.ready();
  await off.ready();
  const ops = () =>
    Array.from({ length: 4 }, () => ({
      key: randomUUID().slice(0, 32),
      member: randomUUID().slice(0, 32),
    })).map((o, i) => ({
      ...o,
      windowMs: [600_000, 600_000, 86_400_000, 3_600_000][i]!,
      cap: [4, 11, 3, 5][i]!,
    }));
  const kinds = {
    'bare GET': () => batch(concurrency, () => conn.get(`${prefix}bare`)),
    'distinct (4 counters)': () => batch(concurrency, () => store.distinct(ops())),
    'check, velocity off': () => batch(concurrency, () => off.check(signup())),
    'check, velocity on Redis': () => batch(concurrency, () => on.check(signup())),
  } as const;
  type Kind = keyof typeof kinds;
  const all = Object.keys(kinds) as Kind[];
  const names = all.filter((k) => only === '' || only.split('|').includes(k));
  const samples = Object.fromEntries(all.map((k) => [k, [] as number[]])) as Record<Kind, number[]>;
  /** Each round's added p99 over its bare GET p99: its median shrugs off the rounds a busy machine stalled. */
  const roundRatios: number[] = [];
  /** The CPU each kind cost, summed over its batches, in µs: this process's, and the redis-server's. */
  const nodeCpu = Object.fromEntries(all.map((k) => [k, 0])) as Record<Kind, number>;
  const serverCpu = Object.fromEntries(all.map((k) => [k, 0])) as Record<Kind, number>;
  /** The kernel's part of this process's CPU (sockets, timers, GC's page faults), summed likewise. */
  const nodeSys = Object.fromEntries(all.map((k) => [k, 0])) as Record<Kind, number>;

  for (let r = 0; r < warmup; r++) for (const name of names) await kinds[name]();
  const admin = new Redis(url);
  const statsBefore = await commandStats(admin);
  let commandsDuringChecks = 0;
  let checksCounted = 0;
  for (let r = 0; r < rounds; r++) {
    const p99 = {} as Record<Kind, number>;
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length]!;
      const before = conn.commands();
      const redisBefore = await redisCpuUs(admin);
      const cpuBefore = process.cpuUsage();
      const latencies = await kinds[name]();
      const cpu = process.cpuUsage(cpuBefore);
      nodeCpu[name] += cpu.user + cpu.system;
      nodeSys[name] += cpu.system;
      serverCpu[name] += (await redisCpuUs(admin)) - redisBefore;
      p99[name] = percentile(latencies, 99);
      samples[name].push(...latencies);
      if (name === 'check, velocity on Redis') {
        commandsDuringChecks += conn.commands() - before;
        checksCounted += concurrency;
      }
    }
    if (names.length === all.length)
      roundRatios.push((p99['check, velocity on Redis'] - p99['check, velocity off']) / p99['bare GET']);
  }

  const statsAfter = await commandStats(admin);
  /** µs of Redis's one thread per call of `command` during the run (others' commands included on a shared Redis). */
  const serverUs = (command: string) => {
    const a = statsAfter[command] ?? { calls: 0, usec: 0 };
    const b = statsBefore[command] ?? { calls: 0, usec: 0 };
    return a.calls > b.calls ? round((a.usec - b.usec) / (a.calls - b.calls), 2) : null;
  };
  const p = (name: Kind, q: number) => percentile(samples[name], q);
  const bareP99 = p('bare GET', 99);
  const addedP99 = p('check, velocity on Redis', 99) - p('check, velocity off', 99);
  const result = {
    client: clientKind,
    autoPipelining,
    concurrency,
    rounds,
    warmup,
    loadAverage: loadavg().map((x) => round(x, 2)),
    latencyMs: Object.fromEntries(
      names.map((name) => [name, { p50: round(p(name, 50)), p99: round(p(name, 99)) }]),
    ),
    // Where an operation's time goes, at `concurrency` at once: this process's CPU per operation (hashing, the
    // client's encoding and reply parsing, the check itself) and the redis-server's (the command, and its share of
    // reading and writing sockets; INFO cpu, whose resolution is coarse for one batch but not summed over rounds).
    nodeCpuUsPerOp: Object.fromEntries(names.map((n) => [n, round(nodeCpu[n] / (rounds * concurrency), 1)])),
    nodeSystemCpuUsPerOp: Object.fromEntries(
      names.map((n) => [n, round(nodeSys[n] / (rounds * concurrency), 1)]),
    ),
    redisCpuUsPerOp: Object.fromEntries(
      names.map((n) => [n, round(serverCpu[n] / (rounds * concurrency), 1)]),
    ),
    roundTripsPerCheck: round(commandsDuringChecks / checksCounted, 3),
    redisServerUsPerCall: { get: serverUs('get'), evalsha: serverUs('evalsha') },
    addedP99Ms: round(addedP99),
    addedP99OverBareP99: round(addedP99 / bareP99, 2),
    medianRoundAddedP99OverBareP99: round(median(roundRatios), 2),
    target: 'added p99 <= 1.2 x bare GET p99; 1 round trip per check',
  };
  console.log(JSON.stringify(result, null, 2));

  const keys = await admin.keys(`${prefix}*`);
  for (let i = 0; i < keys.length; i += 500) await admin.del(...keys.slice(i, i + 500));
  admin.disconnect();
  conn.close();
  await on.close();
  await off.close();
  await own?.stop();
}

await main();
