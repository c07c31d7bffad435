import { createHmac, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createIpMatch } from 'ipmatch';
import { RedisStore } from 'ipmatch/redis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REDIS_URL = process.env.REDIS_URL;
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
if (!REDIS_URL && IN_CI) {
  throw new Error(
    'REDIS_URL is not set under CI=true: the velocity counters must be tested on a real Redis.',
  );
}

const SECRET = 'a-fleet-wide-secret-0123456789abcdef';
const hmac = (text: string) => createHmac('sha256', SECRET).update(text).digest('hex');
const WINDOW = 60_000;

/** A client of each kind, wrapped so that the test counts every command the store sends. */
interface Counted {
  store(options?: { keySecret?: string }): RedisStore;
  /** The commands sent so far, by name. */
  sent: string[];
  close(): Promise<void> | void;
}

async function counted(kind: 'ioredis' | 'node-redis', prefix: string): Promise<Counted> {
  const sent: string[] = [];
  if (kind === 'ioredis') {
    const redis = new Redis(REDIS_URL!, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    await new Promise((resolve) => redis.once('ready', resolve));
    const client = {
      call: (command: string, ...args: string[]) => {
        sent.push(command);
        return redis.call(command, ...args);
      },
      get status() {
        return redis.status;
      },
    };
    return { store: (o) => new RedisStore({ client, prefix, ...o }), sent, close: () => redis.disconnect() };
  }
  const redis = createClient({ url: REDIS_URL! });
  redis.on('error', () => {});
  await redis.connect();
  const client = {
    sendCommand: (args: string[]) => {
      sent.push(args[0]!);
      return redis.sendCommand(args);
    },
    get isOpen() {
      return redis.isOpen;
    },
    get isReady() {
      return redis.isReady;
    },
  };
  return { store: (o) => new RedisStore({ client, prefix, ...o }), sent, close: () => redis.destroy() };
}

describe.skipIf(!REDIS_URL).each(['ioredis', 'node-redis'] as const)(
  'RedisStore.distinct with %s',
  (kind) => {
    let admin: Redis;
    let conn: Counted;
    let store: RedisStore;
    const prefix = `ipmatch-distinct-test:${kind}:${randomUUID()}:`;
    const op = (key: string, member: string, windowMs = WINDOW, cap = 100) => ({
      key,
      member,
      windowMs,
      cap,
    });

    beforeAll(async () => {
      admin = new Redis(REDIS_URL!);
      conn = await counted(kind, prefix);
      store = conn.store();
    });
    afterAll(async () => {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      admin.disconnect();
      await conn.close();
    });

    it('counts distinct members, this one included; a repeat member counts once', async () => {
      const key = randomUUID();
      expect(await store.distinct([op(key, 'a')])).toEqual([1]);
      expect(await store.distinct([op(key, 'b')])).toEqual([2]);
      expect(await store.distinct([op(key, 'a')])).toEqual([2]);
      expect(await store.distinct([op(key, 'c')])).toEqual([3]);
      expect(await admin.zcard(prefix + key)).toBe(3);
    });

    it("an op whose member is '' adds nothing and only counts, and creates no key", async () => {
      const key = randomUUID();
      const empty = randomUUID();
      await store.distinct([op(key, 'a'), op(key, 'b')]);
      expect(await store.distinct([op(key, ''), op(empty, '')])).toEqual([2, 0]);
      expect(await admin.zrange(prefix + key, 0, -1)).toEqual(['a', 'b']);
      expect(await admin.exists(prefix + empty)).toBe(0);
    });

    it('scores each member with the Redis clock, in ms, and a repeat refreshes its time', async () => {
      const key = randomUUID();
      const redisMs = async () => {
        const [s, us] = await admin.time();
        return Number(s) * 1000 + Math.floor(Number(us) / 1000);
      };
      const before = await redisMs();
      await store.distinct([op(key, 'a')]);
      const first = Number(await admin.zscore(prefix + key, 'a'));
      expect(first).toBeGreaterThanOrEqual(before);
      expect(first).toBeLessThanOrEqual(await redisMs());
      await sleep(20);
      await store.distinct([op(key, 'a')]);
      expect(Number(await admin.zscore(prefix + key, 'a'))).toBeGreaterThan(first);
    });

    it('counts only members younger than the window, on every op that touches the key', async () => {
      const key = randomUUID();
      await store.distinct([op(key, 'old')]);
      await sleep(300);
      // One call, one Redis time: 'new' is 0 ms old and 'old' at least 300 ms, so a 150 ms window counts only 'new'.
      expect(await store.distinct([op(key, 'new'), op(key, '', 150)])).toEqual([2, 1]);
      // 'old' is no longer counted but still stored, until newer members push it out of the cap (here 2).
      expect(await admin.zrange(prefix + key, 0, -1)).toEqual(['old', 'new']);
      expect(await store.distinct([op(key, 'newer', 150, 2)])).toEqual([2]);
      expect(await admin.zrange(prefix + key, 0, -1)).toEqual(['new', 'newer']);
    });

    it('near the edge: a member a window old or older is not counted, one 5 s younger is', async () => {
      const key = randomUUID();
      const [s, us] = await admin.time();
      const now = Number(s) * 1000 + Math.floor(Number(us) / 1000);
      const window = 60_000;
      // The script runs at `now` or later: 'edge' is at least a window old there, 'inside' less (unless 5 s pass).
      await admin.zadd(prefix + key, now - window, 'edge', now - window + 5_000, 'inside');
      expect(await store.distinct([op(key, '', window)])).toEqual([1]);
      // 'edge' is not counted; a new member past the cap (2) pushes it out.
      expect(await store.distinct([op(key, 'fresh', window, 2)])).toEqual([2]);
      expect(await admin.zrange(prefix + key, 0, -1)).toEqual(['inside', 'fresh']);
    });

    it('expires the key one window after its newest member', async () => {
      const key = randomUUID();
      await store.distinct([op(key, 'a', 5_000)]);
      const ttl = await admin.pttl(prefix + key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(5_000);
    });

    it('keeps at most the cap newest members: memory per key stays bounded', async () => {
      const key = randomUUID();
      const counts: number[] = [];
      for (const member of ['m1', 'm2', 'm3', 'm4', 'm5', 'm6']) {
        counts.push(...(await store.distinct([op(key, member, WINDOW, 3)])));
      }
      expect(counts).toEqual([1, 2, 3, 3, 3, 3]);
      expect(await admin.zrange(prefix + key, 0, -1)).toEqual(['m4', 'm5', 'm6']);
    });

    it('sends all the counters of a check in one command: one round trip', async () => {
      const ops = [
        op(randomUUID(), 'n1'),
        op(randomUUID(), 'n1'),
        op(randomUUID(), 'c1'),
        op(randomUUID(), 'n1'),
      ];
      await store.distinct(ops); // the first may load the script with EVAL
      conn.sent.length = 0;
      expect(await store.distinct(ops.map((o) => ({ ...o, member: 'n2' })))).toEqual([2, 2, 2, 2]);
      expect(conn.sent).toEqual(['EVALSHA']);
      expect(await store.distinct([])).toEqual([]);
      expect(conn.sent).toEqual(['EVALSHA']);
    });

    it('a check through the core, on an OTP route with every counter, is one command to Redis', async () => {
      const core = createIpMatch({
        logger: { warn() {}, error() {} },
        sendsOtp: true,
        velocity: { store, timeoutMs: 2000 },
      });
      await core.check({ phone: '+447400123456', ip: '81.2.69.160' }); // the script may load with EVAL
      for (const [i, phone] of ['+447400123457', '+447400123458', '+33612345678'].entries()) {
        conn.sent.length = 0;
        const decision = await core.check({ phone, ip: `81.2.69.${161 + i}` });
        expect(decision.velocity).toBeDefined();
        expect(conn.sent).toEqual(['EVALSHA']);
      }
      await core.close();
    });

    it('loads the script with EVAL when Redis has lost it (SCRIPT FLUSH, a restart, a failover)', async () => {
      const key = randomUUID();
      await store.distinct([op(key, 'a')]);
      await admin.script('FLUSH');
      conn.sent.length = 0;
      expect(await store.distinct([op(key, 'b')])).toEqual([2]);
      expect(conn.sent).toEqual(['EVALSHA', 'EVAL']);
      conn.sent.length = 0;
      expect(await store.distinct([op(key, 'c')])).toEqual([3]);
      expect(conn.sent).toEqual(['EVALSHA']);
    });

    it('with keySecret, keys and members are HMAC-SHA256 under the secret, as the other keys are', async () => {
      const hashed = conn.store({ keySecret: SECRET });
      const key = `v:ip:${randomUUID()}`;
      expect(
        await hashed.distinct([op(key, 'member-hash-1'), op(key, ''), op(key, 'member-hash-2')]),
      ).toEqual([1, 1, 2]);
      expect(await admin.exists(prefix + key)).toBe(0);
      expect(await admin.zrange(prefix + hmac(key), 0, -1)).toEqual(
        [hmac('member-hash-1'), hmac('member-hash-2')].sort(),
      );
    });

    it('rejects (never throws synchronously) on a window that is not a number, so the check skips velocity', async () => {
      const call = store.distinct([op(randomUUID(), 'a', Number.NaN)]);
      await expect(call).rejects.toThrow(/windowMs and cap must be finite numbers/);
    });
  },
);
