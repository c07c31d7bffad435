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
 * check's four counters, `check()` with velocity off, and `check()` with velocity on the RedisStore; and the
 * floors (bench/README.md, "the floors under issue 23's 1.2×"): the command alone with a script that does nothing
 * (as a check sends it, and at its leanest), and the check with that script or with only the writes any counting
 * script must do (`FLOOR_SCRIPTS`). Each
 * operation's latency is timed from the moment the batch is fired. Every check has a new number and IP, as a
 * flood of signups would. Prints JSON on stdout; the machine's load average beside it says how noisy it was.
 */
import { createHash, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { IpMatch } from '../src/core/types.js';
import { createIpMatch } from '../src/create-ip-match.js';
import { RedisStore } from '../src/stores/redis.js';
import { DISTINCT_SCRIPT, DISTINCT_SHA } from '../src/stores/redis-distinct.js';
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
      send: (args: string[]) => redis.call(args[0]!, ...args.slice(1)),
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
    send: (args: string[]) => redis.sendCommand(args),
    commands: () => commands,
    close: () => redis.destroy(),
  };
}

/**
 * Two scripts in DISTINCT_SCRIPT's place, with its keys and arguments, that bound what any script could cost:
 * - no work: answers a count per key and touches nothing (the command's shape, and the Node side, alone);
 * - the least work: Redis's clock and, per counter, the two writes issue 23 cannot do without (the member added at
 *   Redis's time, the key's expiry moved on), and no count, no trim. Any script that counts does at least this.
 * Their checks go through the same RedisStore, hashing and client as the real one's: only the script differs.
 */
const FLOOR_SCRIPTS = {
  'no work': `local c = {}
for i = 1, #KEYS do c[i] = 1 end
return c`,
  'least work': `local t = redis.call('TIME')
local score = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
local c = {}
for i = 1, #KEYS do
  local member = ARGV[i * 3 - 2]
  if member ~= '' then
    redis.call('ZADD', KEYS[i], score, member)
    redis.call('PEXPIRE', KEYS[i], ARGV[i * 3 - 1])
  end
  c[i] = 1
end
return c`,
} as const;

/** `client` with every EVALSHA (or EVAL) of the counters' script sent as `script` instead. */
function withScript<C extends object>(client: C, script: string): C {
  const sha = createHash('sha1').update(script).digest('hex');
  const swap = (args: string[]) => {
    if (args[0] === 'EVALSHA' && args[1] === DISTINCT_SHA) return ['EVALSHA', sha, ...args.slice(2)];
    if (args[0] === 'EVAL' && args[1] === DISTINCT_SCRIPT) return ['EVAL', script, ...args.slice(2)];
    return args;
  };
  if ('call' in client) {
    const io = client as unknown as { call: (c: string, ...a: string[]) => Promise<unknown> };
    return Object.defineProperties({} as C, {
      ...Object.getOwnPropertyDescriptors(client),
      call: {
        value: (c: string, ...a: string[]) => {
          const [x, ...y] = swap([c, ...a]);
          return io.call(x!, ...y);
        },
      },
    });
  }
  const nr = client as unknown as { sendCommand: (a: string[]) => Promise<unknown> };
  return Object.defineProperties({} as C, {
    ...Object.getOwnPropertyDescriptors(client),
    sendCommand: { value: (a: string[]) => nr.sendCommand(swap(a)) },
  });
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
  const floor = (script: string): IpMatch => {
    const client = withScript(conn.client, script);
    const floorStore = new RedisStore({ client, prefix, keySecret: 'bench-secret-0123456789abcdef' });
    return createIpMatch({ logger: quiet, velocity: { store: floorStore, timeoutMs: 5_000 } });
  };
  const noWork = floor(FLOOR_SCRIPTS['no work']);
  const leastWork = floor(FLOOR_SCRIPTS['least work']);
  await noWork.ready();
  await leastWork.ready();
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
  // The command alone: EVALSHA of the no-work script with a check's four keys (the prefix and an HMAC each) and
  // its twelve arguments, built before the run: no hashing, no check. What any design that sends a check's
  // counters in one command costs at least, beside the bare GET.
  const noWorkSha = createHash('sha1').update(FLOOR_SCRIPTS['no work']).digest('hex');
  await conn.send(['SCRIPT', 'LOAD', FLOOR_SCRIPTS['no work']]);
  const hex = (i: number) => createHash('sha256').update(`${prefix}${i}`).digest('hex');
  const prebuilt = Array.from({ length: concurrency }, (_, i) => {
    const member = hex(i * 8);
    return [
      'EVALSHA',
      noWorkSha,
      '4',
      ...[1, 2, 3, 4].map((k) => `${prefix}${hex(i * 8 + k)}`),
      member,
      '600000',
      '7',
      member,
      '600000',
      '21',
      hex(i * 8 + 5),
      '86400000',
      '5',
      member,
      '3600000',
      '9',
    ];
  });
  // The leanest command that could name a check's four keys: 16-character keys (96 bits, no prefix) and one
  // 16-character argument. No format of the counters could send less.
  const b64 = (i: number) => createHash('sha256').update(`${prefix}${i}`).digest('base64url').slice(0, 16);
  const leanest = Array.from({ length: concurrency }, (_, i) => [
    'EVALSHA',
    noWorkSha,
    '4',
    ...[1, 2, 3, 4].map((k) => b64(i * 8 + k)),
    b64(i * 8),
  ]);
  const kinds = {
    'bare GET': () => batch(concurrency, () => conn.get(`${prefix}bare`)),
    'EVALSHA alone, no work': () => batch(concurrency, (i) => conn.send(prebuilt[i]!)),
    'EVALSHA alone, no work, leanest': () => batch(concurrency, (i) => conn.send(leanest[i]!)),
    'distinct (4 counters)': () => batch(concurrency, () => store.distinct(ops())),
    'check, velocity off': () => batch(concurrency, () => off.check(signup())),
    'check, velocity on Redis': () => batch(concurrency, () => on.check(signup())),
    'check, velocity on Redis, no work': () => batch(concurrency, () => noWork.check(signup())),
    'check, velocity on Redis, least work': () => batch(concurrency, () => leastWork.check(signup())),
  } as const;
  type Kind = keyof typeof kinds;
  const all = Object.keys(kinds) as Kind[];
  const names = all.filter((k) => only === '' || only.split('|').includes(k));
  const samples = Object.fromEntries(all.map((k) => [k, [] as number[]])) as Record<Kind, number[]>;
  /** Each round's added p99 over its bare GET p99: its median shrugs off the rounds a busy machine stalled. */
  const roundRatios: number[] = [];
  /** The same for the two floors' checks (see FLOOR_SCRIPTS). */
  const floorRatios = { 'no work': [] as number[], 'least work': [] as number[] };
  /** Each round's p99 of the command alone over its bare GET p99. */
  const commandRatios: number[] = [];
  const leanestRatios: number[] = [];
  /** The CPU each kind cost, summed over its batches, in µs: this process's, and the redis-server's. */
  const nodeCpu = Object.fromEntries(all.map((k) => [k, 0])) as Record<Kind, number>;
  const serverCpu = Object.fromEntries(all.map((k) => [k, 0])) as Record<Kind, number>;
  /** EVALSHA's calls and Redis's µs in them (INFO commandstats) during each kind's batches. */
  const evalshaCalls = Object.fromEntries(all.map((k) => [k, 0])) as Record<Kind, number>;
  const evalshaUs = Object.fromEntries(all.map((k) => [k, 0])) as Record<Kind, number>;
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
      const evalBefore = (await commandStats(admin)).evalsha ?? { calls: 0, usec: 0 };
      const cpuBefore = process.cpuUsage();
      const latencies = await kinds[name]();
      const cpu = process.cpuUsage(cpuBefore);
      nodeCpu[name] += cpu.user + cpu.system;
      nodeSys[name] += cpu.system;
      serverCpu[name] += (await redisCpuUs(admin)) - redisBefore;
      const evalAfter = (await commandStats(admin)).evalsha ?? { calls: 0, usec: 0 };
      evalshaCalls[name] += evalAfter.calls - evalBefore.calls;
      evalshaUs[name] += evalAfter.usec - evalBefore.usec;
      p99[name] = percentile(latencies, 99);
      samples[name].push(...latencies);
      if (name === 'check, velocity on Redis') {
        commandsDuringChecks += conn.commands() - before;
        checksCounted += concurrency;
      }
    }
    if (names.length === all.length) {
      const added = (kind: Kind) => (p99[kind] - p99['check, velocity off']) / p99['bare GET'];
      roundRatios.push(added('check, velocity on Redis'));
      commandRatios.push(p99['EVALSHA alone, no work'] / p99['bare GET']);
      leanestRatios.push(p99['EVALSHA alone, no work, leanest'] / p99['bare GET']);
      floorRatios['no work'].push(added('check, velocity on Redis, no work'));
      floorRatios['least work'].push(added('check, velocity on Redis, least work'));
    }
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
    redisServerUsPerCall: {
      get: serverUs('get'),
      ...Object.fromEntries(
        names
          .filter((n) => evalshaCalls[n] > 0)
          .map((n) => [`evalsha (${n})`, round(evalshaUs[n] / evalshaCalls[n], 2)]),
      ),
    },
    addedP99Ms: round(addedP99),
    addedP99OverBareP99: round(addedP99 / bareP99, 2),
    medianRoundAddedP99OverBareP99: round(median(roundRatios), 2),
    // The command alone (no check, no hashing, a script that does nothing): its p99 over the bare GET's.
    commandAloneP99OverBareP99: round(p('EVALSHA alone, no work', 99) / bareP99, 2),
    medianRoundCommandAloneP99OverBareP99: round(median(commandRatios), 2),
    leanestCommandP99OverBareP99: round(p('EVALSHA alone, no work, leanest', 99) / bareP99, 2),
    medianRoundLeanestCommandP99OverBareP99: round(median(leanestRatios), 2),
    // The floors: the same check and client with a script that does nothing, or only the writes any script must do.
    floors: Object.fromEntries(
      (['no work', 'least work'] as const).map((f) => {
        const kind = `check, velocity on Redis, ${f}` as const;
        const added = p(kind, 99) - p('check, velocity off', 99);
        return [
          f,
          {
            addedP99Ms: round(added),
            addedP99OverBareP99: round(added / bareP99, 2),
            medianRoundAddedP99OverBareP99: round(median(floorRatios[f]), 2),
          },
        ];
      }),
    ),
    target: 'added p99 <= 1.2 x bare GET p99; 1 round trip per check',
  };
  console.log(JSON.stringify(result, null, 2));

  const keys = await admin.keys(`${prefix}*`);
  for (let i = 0; i < keys.length; i += 500) await admin.del(...keys.slice(i, i + 500));
  admin.disconnect();
  conn.close();
  await on.close();
  await off.close();
  await noWork.close();
  await leastWork.close();
  await own?.stop();
}

await main();
