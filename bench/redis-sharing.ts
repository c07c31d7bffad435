/**
 * Upstream calls per distinct number when two app processes share one Redis, with and without the lock.
 * Two Node child processes each check the same 200 numbers, all at once, against one fake Vonage (which
 * counts the calls), through `RedisStore` and `cache: { lock }`. Every run uses a fresh key prefix, so
 * every number starts uncached.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx bench/redis-sharing.ts [--client=ioredis|node-redis] [--runs=5]
 *
 * Without REDIS_URL it starts its own redis-server (no persistence) on a free loopback port.
 * Options: --latency=<ms> of the fake Vonage (default 150); --timeout=<ms>, the checks' budget (default 2000);
 * --store-timeout=<ms>, cache.storeTimeoutMs (default 50);
 * --order=same|reversed (the second process checks the numbers in the same order as the first, the worst
 * case, or in reverse; default same). On a loaded machine, 400 checks at once can run out of a 2 s budget:
 * the errors column then shows timeouts, and a waiting check that looked up itself counts a second call.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { Store } from '../src/core/store.js';
import { createIpMatch } from '../src/create-ip-match.js';
import { vonageProvider } from '../src/providers/vonage.js';
import { RedisStore } from '../src/stores/redis.js';
import { startFakeVonage } from '../src/testing/fake-vonage.js';

const NUMBERS = Array.from({ length: 200 }, (_, i) => `+4474001${String(i).padStart(5, '0')}`);
const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;

interface Job {
  redisUrl: string;
  vonageUrl: string;
  prefix: string;
  lock: boolean;
  client: 'ioredis' | 'node-redis';
  reversed: boolean;
  index: number;
  timeoutMs: number;
  storeTimeoutMs: number;
}
interface Outcome {
  checks: number;
  cached: number;
  errors: number;
  ms: number;
  /** Store calls slower than storeTimeoutMs: the check went on without them (a lock given up is a lookup). */
  slowStoreCalls: number;
  /** Distinct `code message` of the decisions' errors (timeouts when the machine is too slow for the budget). */
  codes: string[];
}

/** A child: connect, say ready, check every number at once on 'go', report, exit. */
/** The store, timed: calls slower than `limitMs` were given up on by the core. */
function timed(store: RedisStore, limitMs: number, counter: { slow: number }): Store {
  const time =
    <A extends unknown[], R>(f: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const started = performance.now();
      try {
        return await f(...args);
      } finally {
        if (performance.now() - started > limitMs) counter.slow++;
      }
    };
  return {
    get: time((key: string) => store.get(key)),
    set: time((key: string, value: string, ttlMs: number) => store.set(key, value, ttlMs)),
    lock: time((key: string, ttlMs: number) => store.lock(key, ttlMs)),
    unlock: time((key: string) => store.unlock(key)),
  };
}

async function child(): Promise<void> {
  const job = await new Promise<Job>((resolve) => process.once('message', (m) => resolve(m as Job)));
  let store: RedisStore;
  let close: () => void;
  if (job.client === 'ioredis') {
    const client = new Redis(job.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    await once(client, 'ready'); // without the offline queue, commands sent before this fail
    store = new RedisStore({ client, prefix: job.prefix });
    close = () => client.disconnect();
  } else {
    const client = createClient({ url: job.redisUrl });
    client.on('error', () => {});
    await client.connect();
    store = new RedisStore({ client, prefix: job.prefix });
    close = () => client.destroy();
  }
  const counter = { slow: 0 };
  const provider = vonageProvider({
    apiKey: 'test-key',
    apiSecret: 'test-secret',
    baseUrl: job.vonageUrl,
    connections: 200, // one socket per concurrent lookup: no queueing in the pool to blur the figures
    // The bench sends every check from one IP: the spending caps would decide most of them offline.
    maxLookupsPerMinute: false,
    maxLookupsPerMinutePerIp: false,
    // Timeouts on a loaded machine would open the breaker, and skipped calls would flatter the counts.
    breaker: false,
  });
  const ipm = createIpMatch({
    provider,
    timeoutMs: job.timeoutMs,
    cache: {
      store: timed(store, job.storeTimeoutMs, counter),
      lock: job.lock,
      storeTimeoutMs: job.storeTimeoutMs,
    },
    logger: { warn() {}, error() {} },
  });
  const numbers = job.reversed ? [...NUMBERS].reverse() : NUMBERS;
  // Warm up (phone metadata, GeoIP data, JIT, sockets to Vonage) on numbers of this process's own, so that a
  // cold start does not eat the measured checks' budgets. The parent counts calls from 'go' only.
  const warmUp = Array.from({ length: 100 }, (_, i) => `+4474009${job.index}${String(i).padStart(4, '0')}`);
  await Promise.all(warmUp.map((phone) => ipm.check({ phone, ip: '81.2.69.160' })));
  process.send!('ready');
  await new Promise((resolve) => process.once('message', resolve));
  counter.slow = 0;
  const started = performance.now();
  const decisions = await Promise.all(numbers.map((phone) => ipm.check({ phone, ip: '81.2.69.160' })));
  const outcome: Outcome = {
    checks: decisions.length,
    cached: decisions.filter((d) => d.cached).length,
    errors: decisions.filter((d) => d.error).length,
    codes: [...new Set(decisions.flatMap((d) => (d.error ? [`${d.error.code}: ${d.error.message}`] : [])))],
    ms: performance.now() - started,
    slowStoreCalls: counter.slow,
  };
  process.send!(outcome);
  await Promise.race([ipm.close(), sleep(2000)]);
  close();
  process.exit(0);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function ownRedis(): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ipmatch-bench-redis-'));
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
  for (let i = 0; i < 50; i++) {
    try {
      await probe.connect();
      break;
    } catch {
      await sleep(100);
    }
  }
  probe.disconnect();
  return {
    url,
    stop() {
      server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function removeKeys(admin: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await admin.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** One run: both processes connect and warm up, then check every number at once; calls are counted from 'go'. */
async function runOnce(
  job: Omit<Job, 'reversed' | 'index'>,
  reversed: boolean,
  fake: { calls: number },
): Promise<{ outcomes: Outcome[]; calls: number }> {
  const file = fileURLToPath(import.meta.url);
  const children: ChildProcess[] = [0, 1].map(() => fork(file, ['child'], { execArgv: ['--import', 'tsx'] }));
  const exited = children.map((c) => new Promise<number | null>((resolve) => c.once('exit', resolve)));
  /** The next message of every child, or an error if one exits first. */
  const next = () =>
    Promise.all(
      children.map((c, i) =>
        Promise.race([
          new Promise<unknown>((resolve) => c.once('message', resolve)),
          exited[i]!.then((code) => Promise.reject(new Error(`bench child ${i} exited with ${code}`))),
        ]),
      ),
    );
  try {
    const ready = next();
    for (const [i, c] of children.entries()) c.send({ ...job, reversed: reversed && i === 1, index: i });
    await ready;
    const before = fake.calls;
    const outcomes = next();
    for (const c of children) c.send('go');
    const result = (await outcomes) as Outcome[];
    const calls = fake.calls - before;
    await Promise.all(exited);
    return { outcomes: result, calls };
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const client = arg('client', 'ioredis') as Job['client'];
  const runs = Number(arg('runs', '5'));
  const latencyMs = Number(arg('latency', '150'));
  const reversed = arg('order', 'same') === 'reversed';
  const timeoutMs = Number(arg('timeout', '2000'));
  const storeTimeoutMs = Number(arg('store-timeout', '50'));
  const own = process.env.REDIS_URL ? undefined : await ownRedis();
  const redisUrl = process.env.REDIS_URL ?? own!.url;
  const fake = await startFakeVonage({ latencyMs });
  const admin = new Redis(redisUrl);
  console.log(
    `2 processes × ${NUMBERS.length} distinct numbers, all checked at once; ${client}; fake Vonage latency ${latencyMs} ms; timeoutMs ${timeoutMs}; storeTimeoutMs ${storeTimeoutMs}; order ${reversed ? 'reversed' : 'same'}; ${runs} runs each`,
  );
  console.log(
    'lock   calls/number (mean, min-max over runs)    cached decisions   errors   slow store calls   slowest process',
  );
  try {
    for (const lock of [false, true]) {
      const perNumber: number[] = [];
      let cached = 0;
      let errors = 0;
      let slowest = 0;
      let slowStore = 0;
      const codes = new Set<string>();
      for (let r = 0; r < runs; r++) {
        const prefix = `ipmatch-bench:${randomUUID().slice(0, 8)}:`;
        const { outcomes, calls } = await runOnce(
          { redisUrl, vonageUrl: fake.url, prefix, lock, client, timeoutMs, storeTimeoutMs },
          reversed,
          fake,
        );
        perNumber.push(calls / NUMBERS.length);
        cached += outcomes.reduce((a, o) => a + o.cached, 0);
        errors += outcomes.reduce((a, o) => a + o.errors, 0);
        for (const o of outcomes) for (const c of o.codes) codes.add(c);
        slowest = Math.max(slowest, ...outcomes.map((o) => o.ms));
        slowStore += outcomes.reduce((a, o) => a + o.slowStoreCalls, 0);
        await removeKeys(admin, prefix);
      }
      const mean = perNumber.reduce((a, b) => a + b, 0) / runs;
      const range = `${Math.min(...perNumber).toFixed(3)}-${Math.max(...perNumber).toFixed(3)}`;
      const share = `${cached}/${runs * NUMBERS.length * 2}`;
      console.log(
        `${String(lock).padEnd(6)} ${`${mean.toFixed(3)} (${range})`.padEnd(42)}${share.padEnd(19)}` +
          `${String(errors).padEnd(9)}${String(slowStore).padEnd(19)}${slowest.toFixed(0)} ms`,
      );
      if (codes.size > 0) console.log(`       errors: ${[...codes].join('; ')}`);
    }
  } finally {
    admin.disconnect();
    await fake.close();
    own?.stop();
  }
}

if (process.argv[2] === 'child') await child();
else await main();
