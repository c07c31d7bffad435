import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { Redis } from 'ioredis';
import { createIpMatch, type IpMatch, type IpMatchDecision } from 'ipmatch';
import { ipMatch } from 'ipmatch/express';
import { RedisStore } from 'ipmatch/redis';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../helpers/logger.js';
import { hasRedisServer, type RedisServer, startRedisServer } from '../helpers/redis-server.js';

/**
 * Chaos for the velocity counters: a real Express app counting in a Redis of its own, under 100 concurrent
 * signups, and that Redis killed (SIGKILL) mid-load. Every request is answered 200, none fails or hangs; while
 * Redis is away the decisions carry `velocity_unavailable` (allow) and no counts, the logger warns once for the
 * outage; when Redis is started again on its port, the counts come back by themselves.
 */
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
const HAS_REDIS = hasRedisServer();
if (!HAS_REDIS && IN_CI)
  throw new Error('redis-server is not on the PATH under CI=true: the Redis chaos test must run.');

const CONCURRENCY = 100;
/** Bounded: a request that takes longer than this counts as hung. */
const CLIENT_GUARD_MS = 10_000;

interface Seen {
  statuses: Record<string, number>;
  decisions: Array<Pick<IpMatchDecision, 'signals' | 'velocity'>>;
}

describe.skipIf(!HAS_REDIS)('velocity on Redis, Redis killed under load', () => {
  let redis: RedisServer;
  let client: Redis;
  let core: IpMatch;
  let server: Server;
  let pool: Pool;
  const logger = memoryLogger();
  let sequence = 0;

  beforeAll(async () => {
    redis = await startRedisServer();
    // Fail fast while Redis is away (no offline queue, one retry), and try to reconnect every 50 ms.
    client = new Redis(redis.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 50,
    });
    client.on('error', () => {});
    await new Promise((resolve) => client.once('ready', resolve));
    // A budget a loaded machine keeps within while Redis is up: the outage fails at once, not by the budget.
    core = createIpMatch({ logger, velocity: { store: new RedisStore({ client }), timeoutMs: 1000 } });
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(express.json());
    app.post('/signup', ipMatch(core), (req, res) => {
      res.json({ signals: req.ipMatch!.signals, velocity: req.ipMatch!.velocity });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, {
      connections: CONCURRENCY,
    });
  });
  afterAll(async () => {
    await pool?.close();
    await new Promise((resolve) => server?.close(resolve));
    await core?.close();
    client?.disconnect();
    await redis?.stop();
  });

  /** `n` signups, `CONCURRENCY` at a time, each a new number from one of 50 IPs; `during(i)` runs as each is sent. */
  async function load(n: number, during?: (sent: number) => void | Promise<void>): Promise<Seen> {
    const seen: Seen = { statuses: {}, decisions: [] };
    let sent = 0;
    const worker = async () => {
      while (sent < n) {
        const i = sequence++;
        const k = sent++;
        await during?.(k);
        try {
          const res = await pool.request({
            method: 'POST',
            path: '/signup',
            headers: { 'content-type': 'application/json', 'x-forwarded-for': `81.2.69.${100 + (i % 50)}` },
            body: JSON.stringify({ phone: `+4474${String(10_000_000 + i).slice(-8)}` }),
            signal: AbortSignal.timeout(CLIENT_GUARD_MS),
          });
          const body = (await res.body.json()) as Seen['decisions'][number];
          seen.statuses[res.statusCode] = (seen.statuses[res.statusCode] ?? 0) + 1;
          seen.decisions.push(body);
        } catch (error) {
          const name =
            (error as Error).name === 'TimeoutError' ? 'hung' : `failed: ${(error as Error).message}`;
          seen.statuses[name] = (seen.statuses[name] ?? 0) + 1;
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return seen;
  }
  const unavailable = (seen: Seen) =>
    seen.decisions.filter((d) => d.signals.includes('velocity_unavailable'));
  const counted = (seen: Seen) => seen.decisions.filter((d) => d.velocity !== undefined);

  it('answers every signup through the outage, marks it velocity_unavailable, and counts again once Redis is back', async () => {
    const before = await load(300);
    expect(before.statuses).toEqual({ 200: 300 });
    expect(counted(before)).toHaveLength(300);

    // Redis is killed once 150 of 1000 signups have been sent, with 100 in flight.
    let killed: Promise<void> | undefined;
    const outage = await load(1000, (sent) => {
      if (sent === 150) killed = redis.stop();
    });
    await killed;
    expect(outage.statuses).toEqual({ 200: 1000 });
    // Each decision either has its counts or says why not, never both and never neither.
    for (const d of outage.decisions) {
      expect(d.velocity === undefined).toBe(d.signals.includes('velocity_unavailable'));
    }
    expect(unavailable(outage).length).toBeGreaterThanOrEqual(700);
    const warnings = logger.lines.filter(
      (l) => (l.meta as { code?: string })?.code === 'IPMATCH_VELOCITY_UNAVAILABLE',
    );
    expect(warnings).toHaveLength(1);

    redis = await startRedisServer(redis.port);
    let back = false;
    for (let i = 0; i < 100 && !back; i++) {
      back = counted(await load(1)).length === 1;
      if (!back) await sleep(100);
    }
    expect(back).toBe(true);
    const after = await load(300);
    expect(after.statuses).toEqual({ 200: 300 });
    expect(counted(after)).toHaveLength(300);
    expect(unavailable(after)).toHaveLength(0);
    expect(
      logger.lines.filter((l) => (l.meta as { code?: string })?.code === 'IPMATCH_VELOCITY_UNAVAILABLE'),
    ).toHaveLength(1);
  }, 60_000);
});
