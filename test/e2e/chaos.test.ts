import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import express from 'express';
import { createIpMatch, vonageProvider } from 'ipmatch';
import { ipMatch } from 'ipmatch/express';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Chaos: a real Express app on 127.0.0.1, the real Vonage client, and a fake Number Insight server that fails
 * at random (15% hang, 10% dropped connection, 10% HTTP 502, 10% truncated JSON, 10% throttled, and slow
 * successes otherwise). 4 000 signups at 100 concurrent must all be answered 200 or 403, within the 400 ms
 * budget plus a margin, with no unhandled rejection, bounded memory, and a circuit breaker that opens and
 * recovers.
 *
 * The fake and the clients run in child processes, so that this process holds only the app, as in production:
 * their work never shows up as the app's latency or memory.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FAKE = fileURLToPath(new URL('../../src/testing/fake-vonage.ts', import.meta.url));

const TOTAL = 4000;
const CONCURRENCY = 100;
const BUDGET_MS = 400;
/**
 * What a check may take beyond its budget: reading the phone and the IP, and answering. On top of it comes
 * however late this process's event loop ran during the run (measured), since no timer fires before the loop
 * gets to it: on a two-core machine shared with other work, the scheduler alone has held it back 600 ms.
 */
const MARGIN_MS = 150;
/** Short, so that the breaker opens, probes and closes again within the run. */
const COOLDOWN_MS = 100;
/**
 * Consecutive failures that open the breaker. With the default 5, an upstream failing 55% of the time keeps the
 * breaker open most of the run, and the checks are answered by the open breaker rather than by the failing
 * client this test is about. At 8 it still opens many times (a run of 8 failures comes every ~270 calls).
 */
const BREAKER_FAILURES = 8;
/** Retained heap after a full GC: a leak of even a few hundred bytes per signup would show. */
const HEAP_GROWTH_LIMIT_MB = 25;
/** The client gives up on a request after this long: a request still unanswered then is a hang. */
const CLIENT_GUARD_MS = 10_000;
const RSS_GROWTH_LIMIT_MB = 100;
const WARM_UP = 1000;
/** Sockets to the fake Vonage. */
const CONNECTIONS = 50;
const FAULTS = { hang: 0.15, drop: 0.1, http502: 0.1, truncated: 0.1, throttle: 0.1 };
const SEED = 20260207;

const GB_IPS = ['81.2.69.160', '81.2.69.142', '81.2.69.192'];
const KR_IP = '211.234.0.1';

interface FakeStats {
  calls: number;
  inFlight: number;
  openConnections: number;
}

/** What the clients saw: round-trip latencies, and counts by status and by outcome. */
interface LoadResult {
  latencies: number[];
  statuses: Record<string, number>;
  outcomes: Record<string, number>;
}

/**
 * The outside world, in two child processes. One is the fake Vonage: its slow successes take 20-220 ms, drawn
 * from a seeded generator like the fault mix, so a failing run replays. The other is the clients: one keep-alive
 * undici pool, `CONCURRENCY` requests at a time, each given up after `CLIENT_GUARD_MS` (counted as 'hung').
 * Apart, a client side running flat out cannot slow the fake's answers down.
 */
const FAKE_SIDE = `
const { startFakeVonage } = await import(${JSON.stringify(FAKE)});
let a = ${SEED} ^ 0x9e3779b9;
const random = () => { a = (a + 0x6d2b79f5) >>> 0; let t = Math.imul(a ^ (a >>> 15), a | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
const fake = await startFakeVonage({
  faults: ${JSON.stringify(FAULTS)}, seed: ${SEED}, balance: 1e9,
  fault: () => ({ latencyMs: 20 + Math.floor(random() * 200) }),
});
process.on('message', async (m) => {
  if (m.cmd === 'stats') process.send({ stats: { calls: fake.calls, inFlight: fake.inFlight, openConnections: fake.openConnections } });
  if (m.cmd === 'heal') { fake.set({ faults: undefined, fault: undefined }); process.send({ healed: true }); }
  if (m.cmd === 'close') { await fake.close(); process.disconnect(); }
});
process.send({ ready: fake.url });
`;

const CLIENT_SIDE = `
const { Pool } = await import('undici');
const GB_IPS = ${JSON.stringify(GB_IPS)};
let client;

async function signup(i, result) {
  // Seven in ten from the phone's own country; the rest from Korea, which the policy blocks when it can tell.
  const ip = i % 10 < 7 ? GB_IPS[i % GB_IPS.length] : ${JSON.stringify(KR_IP)};
  const phone = '+447400' + String(1000000 + (i % 1000000)).slice(1);
  const bump = (m, k) => { m[k] = (m[k] ?? 0) + 1; };
  const started = performance.now();
  try {
    const res = await client.request({
      method: 'POST', path: '/signup',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify({ phone }),
      signal: AbortSignal.timeout(${CLIENT_GUARD_MS}),
    });
    const body = await res.body.json();
    result.latencies.push(performance.now() - started);
    bump(result.statuses, res.statusCode);
    bump(result.outcomes, res.statusCode === 403 ? '403 ' + body.reason : body.reason + ' ' + (body.error ?? ''));
  } catch (error) {
    bump(result.statuses, error.name === 'TimeoutError' ? 'hung' : 'client error: ' + error.message);
  }
}

async function load({ url, from, to }) {
  client ??= new Pool(url, { connections: ${CONCURRENCY}, pipelining: 1 });
  const result = { latencies: [], statuses: {}, outcomes: {} };
  let next = from;
  const worker = async () => { while (next < to) await signup(next++, result); };
  await Promise.all(Array.from({ length: ${CONCURRENCY} }, worker));
  return result;
}

process.on('message', async (m) => {
  if (m.cmd === 'load') process.send({ loaded: await load(m) });
  if (m.cmd === 'close') { await client?.close(); process.disconnect(); }
});
process.send({ ready: true });
`;

/** A child process running `code` (ESM, under tsx), driven by messages. */
class Side {
  readonly #child: ChildProcess;
  readonly #ready: Promise<unknown>;

  constructor(code: string) {
    this.#child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#ready = this.#reply('ready');
  }

  /** What the child sent with its 'ready' message. */
  ready<T>(): Promise<T> {
    return this.#ready as Promise<T>;
  }

  #reply<T>(key: string): Promise<T> {
    return new Promise<T>((resolve) => {
      const on = (m: Record<string, unknown>) => {
        if (!(key in m)) return;
        this.#child.off('message', on);
        resolve(m[key] as T);
      };
      this.#child.on('message', on);
    });
  }

  ask<T>(command: object, key: string): Promise<T> {
    const reply = this.#reply<T>(key);
    this.#child.send(command);
    return reply;
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = once(this.#child, 'exit');
    if (this.#child.connected) this.#child.send({ cmd: 'close' });
    const timer = setTimeout(() => this.#child.kill(), 5000);
    await exited;
    clearTimeout(timer);
  }
}

const fakeSide = new Side(FAKE_SIDE);
const clientSide = new Side(CLIENT_SIDE);
const outside = {
  fakeUrl: () => fakeSide.ready<string>(),
  /** Posts signups `from`..`to` to the app at `url`, and says what the clients saw. */
  load: (url: string, from: number, to: number) =>
    clientSide.ask<LoadResult>({ cmd: 'load', url, from, to }, 'loaded'),
  stats: () => fakeSide.ask<FakeStats>({ cmd: 'stats' }, 'stats'),
  heal: () => fakeSide.ask<boolean>({ cmd: 'heal' }, 'healed'),
  close: () => Promise.all([clientSide.close(), fakeSide.close()]),
};

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const round = (n: number) => Math.round(n * 10) / 10;
/** A full GC, so that memory figures compare what is retained rather than when V8 last collected. */
const gc = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();
const memory = () => {
  gc();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss: rss / 1024 / 1024, heap: heapUsed / 1024 / 1024 };
};

afterAll(() => outside.close());

describe('chaos: a failing Vonage under load', () => {
  it(`answers ${TOTAL} signups at ${CONCURRENCY} concurrent, each 200 or 403 within the budget`, async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const fakeUrl = await outside.fakeUrl();
    await clientSide.ready();

    const t0 = performance.now();
    const transitions: { at: number; code: string }[] = [];
    const logger = {
      warn(_msg: string, meta?: object) {
        const code = (meta as { code?: string } | undefined)?.code ?? '';
        if (code.startsWith('IPMATCH_CIRCUIT_')) transitions.push({ at: performance.now() - t0, code });
      },
      error() {},
    };
    const core = createIpMatch({
      provider: vonageProvider({
        apiKey: 'test-key',
        apiSecret: 'test-secret',
        baseUrl: fakeUrl,
        connections: CONNECTIONS,
        breaker: { failures: BREAKER_FAILURES, cooldownMs: COOLDOWN_MS },
        // The lookup budget has its own tests: here every signup must reach the failing upstream.
        maxLookupsPerMinute: false,
        maxLookupsPerMinutePerIp: false,
      }),
      cache: false,
      timeoutMs: BUDGET_MS,
      logger,
    });

    // The app under test. Two clocks: from ipMatch's start to its answer (a 403, or next() and the handler's
    // 200), which is what the budget bounds; and from the first middleware until the answer has been written.
    const checkLatencies: number[] = [];
    const serverLatencies: number[] = [];
    const check = ipMatch(core);
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use((_req, res, next) => {
      const started = performance.now();
      res.once('finish', () => serverLatencies.push(performance.now() - started));
      next();
    });
    app.use(express.json());
    app.post(
      '/signup',
      async (req, res, next) => {
        const started = performance.now();
        await check(req, res, next);
        checkLatencies.push(performance.now() - started);
      },
      (req, res) => {
        const d = req.ipMatch!;
        res.json({ reason: d.reason, error: d.error?.code ?? null, provider: d.provider });
      },
    );
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    // Warm up (JIT, GeoIP data, sockets, V8's heap sizing) before taking the memory baseline. The first check
    // loads the GeoIP data, as an app's first request would.
    const initial = memory();
    await core.check({ phone: '+447400123456', ip: GB_IPS[0] });
    const warm = await outside.load(url, 0, WARM_UP);
    checkLatencies.length = 0;
    serverLatencies.length = 0;
    const before = memory();
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const cpu = process.cpuUsage();
    const started = performance.now();
    const seen = await outside.load(url, WARM_UP, WARM_UP + TOTAL);
    const seconds = (performance.now() - started) / 1000;
    const loadEnded = performance.now() - t0;
    loopDelay.disable();
    const cpuUsed = process.cpuUsage(cpu);
    const grown = memory();

    // Recovery: once Vonage is healthy again, the breaker's next probe closes it and lookups succeed.
    await outside.heal();
    await new Promise((r) => setTimeout(r, COOLDOWN_MS + 50));
    const healed = [];
    for (let i = 0; i < 5; i++) healed.push(await core.check({ phone: '+447400123456', ip: GB_IPS[0] }));

    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await core.close();
    // The fake sees the sockets close a moment after close() has destroyed them on this side.
    let upstream = await outside.stats();
    for (let i = 0; i < 100 && upstream.openConnections > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      upstream = await outside.stats();
    }
    process.off('unhandledRejection', onUnhandled);

    const client = [...seen.latencies].sort((a, b) => a - b);
    const inCheck = [...checkLatencies].sort((a, b) => a - b);
    const inServer = [...serverLatencies].sort((a, b) => a - b);
    const worst = inCheck.at(-1) ?? Number.NaN;
    const loopMax = loopDelay.max / 1e6;
    const limit = BUDGET_MS + MARGIN_MS + loopMax;
    const opens = transitions.filter((t) => t.code === 'IPMATCH_CIRCUIT_OPEN');
    const closes = transitions.filter((t) => t.code === 'IPMATCH_CIRCUIT_CLOSED');
    const closedInRun = closes.filter((t) => t.at <= loadEnded).length;
    const answered = (seen.statuses['200'] ?? 0) + (seen.statuses['403'] ?? 0);
    const ms = (sorted: number[]) =>
      `p50 ${round(percentile(sorted, 50))}, p99 ${round(percentile(sorted, 99))}, worst ${round(sorted.at(-1) ?? Number.NaN)}`;
    console.log(
      [
        `chaos: ${answered}/${TOTAL} answered 200 or 403 in ${round(seconds)} s (${Math.round(TOTAL / seconds)}/s), statuses ${JSON.stringify(seen.statuses)}`,
        `chaos: latency of the check ms ${ms(inCheck)} (limit ${round(limit)} = budget ${BUDGET_MS} + margin ${MARGIN_MS} + loop delay ${round(loopMax)})`,
        `chaos: latency until answered, in the server ms ${ms(inServer)}; at the client ${ms(client)}`,
        `chaos: event-loop delay of the app ms p50 ${round(loopDelay.percentile(50) / 1e6)}, p99 ${round(loopDelay.percentile(99) / 1e6)}, max ${round(loopDelay.max / 1e6)}; app CPU ${round((cpuUsed.user + cpuUsed.system) / 1e4 / seconds)}%`,
        `chaos: RSS growth ${round(grown.rss - before.rss)} MB (limit ${RSS_GROWTH_LIMIT_MB} MB), heap growth ${round(grown.heap - before.heap)} MB (limit ${HEAP_GROWTH_LIMIT_MB} MB), after GC (RSS ${round(initial.rss)} MB before warm-up, ${round(before.rss)} after, ${round(grown.rss)} after the run); unhandled rejections ${unhandled.length}`,
        `chaos: breaker opened ${opens.length}x and closed ${closes.length}x (${closedInRun} during the load); first open at ${round(opens[0]?.at ?? Number.NaN)} ms, first close at ${round(closes[0]?.at ?? Number.NaN)} ms`,
        `chaos: ${upstream.calls} upstream calls; after close(), ${upstream.openConnections} sockets open and ${upstream.inFlight} requests in flight at the fake`,
        `chaos: outcomes ${JSON.stringify(Object.fromEntries(Object.entries(seen.outcomes).sort((a, b) => b[1] - a[1])))}`,
      ].join('\n'),
    );

    expect(unhandled).toEqual([]);
    // Every signup answered, 200 or 403: no 5xx, no hang, no client error (in the warm-up too).
    for (const statuses of [seen.statuses, warm.statuses]) {
      expect(Object.keys(statuses).filter((s) => s !== '200' && s !== '403')).toEqual([]);
    }
    expect(answered).toBe(TOTAL);
    expect(worst).toBeLessThanOrEqual(limit);
    expect(grown.rss - before.rss).toBeLessThan(RSS_GROWTH_LIMIT_MB);
    expect(grown.heap - before.heap).toBeLessThan(HEAP_GROWTH_LIMIT_MB);
    // Every kind of failure happened and became a decision. Counted with the warm-up: on a loaded machine the
    // breaker can stay open for much of the measured run, and then few checks reach the upstream in it.
    const outcomes = { ...warm.outcomes };
    for (const [k, n] of Object.entries(seen.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + n;
    const kinds = Object.keys(outcomes).join('\n');
    for (const code of [
      'timeout',
      'network_error',
      'http_502',
      'invalid_response',
      'throttled',
      'circuit_open',
    ]) {
      expect(kinds).toContain(code);
    }
    // Lookups that did succeed still decided: mismatches were blocked.
    expect(outcomes['403 country_mismatch']).toBeGreaterThan(0);
    // The breaker opened under the faults, and a good probe closed it again (during the load, or once the
    // fake was healed), after which lookups succeed.
    expect(opens.length).toBeGreaterThan(0);
    expect(closes.length).toBeGreaterThan(0);
    expect(transitions.at(-1)?.code).toBe('IPMATCH_CIRCUIT_CLOSED');
    expect(healed.map((d) => d.error?.code ?? d.reason)).toEqual(Array(5).fill('country_match'));
    // close() left nothing behind at the upstream: no socket, no request in flight.
    expect(upstream.openConnections).toBe(0);
    expect(upstream.inFlight).toBe(0);
  }, 60_000);
});
