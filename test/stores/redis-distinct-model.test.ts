import { createHmac, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { RedisStore } from 'ipmatch/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISTINCT_SCRIPT } from '../../src/stores/redis-distinct.js';

const REDIS_URL = process.env.REDIS_URL;

/** The script on a clock the test sets: the two last ARGV stand for TIME's seconds and microseconds. */
const CLOCKED = DISTINCT_SCRIPT.replace("redis.call('TIME')", '{ARGV[#ARGV - 1], ARGV[#ARGV]}');

/**
 * What the counters mean, without Redis: per key, each member's last time; a count is how many members are
 * younger than the window at `now` (this op's included), at most the cap.
 */
class Model {
  readonly #seen = new Map<string, Map<string, number>>();

  run(key: string, member: string, windowMs: number, cap: number, now: number): number {
    const members = this.#seen.get(key) ?? new Map<string, number>();
    this.#seen.set(key, members);
    if (member !== '') members.set(member, now);
    let live = 0;
    for (const at of members.values()) if (at > now - windowMs) live++;
    return Math.min(live, cap);
  }
}

/** Every key of the real Redis that matches `pattern`, by SCAN. */
async function scanKeys(admin: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

describe.skipIf(!REDIS_URL)('the distinct script against its model', () => {
  let admin: Redis;
  const prefix = `ipmatch-distinct-model:${randomUUID()}:`;

  beforeAll(() => {
    admin = new Redis(REDIS_URL!);
  });
  afterAll(async () => {
    const keys = await scanKeys(admin, `${prefix}*`);
    for (let i = 0; i < keys.length; i += 500) await admin.del(...keys.slice(i, i + 500));
    admin.disconnect();
  });

  it('the test clock replaces Redis TIME, and nothing else', () => {
    expect(CLOCKED).not.toBe(DISTINCT_SCRIPT);
    expect(CLOCKED.replace('{ARGV[#ARGV - 1], ARGV[#ARGV]}', "redis.call('TIME')")).toBe(DISTINCT_SCRIPT);
  });

  it('counts exactly the members younger than the window, at most the cap, and stores at most the cap', async () => {
    // Three counters of fixed window and cap; windows of a minute or more, so that no key expires in real time.
    const step = fc.record({
      // Steps that land on a window's edge (sums of 30 s to 60, 90 or 120 s) as often as anywhere else.
      advanceMs: fc.oneof(
        fc.constantFrom(0, 1, 29_999, 30_000, 30_001),
        fc.integer({ min: 0, max: 200_000 }),
      ),
      ops: fc.array(
        fc.record({
          key: fc.integer({ min: 0, max: 2 }),
          member: fc.constantFrom('', 'a', 'b', 'c', 'd', 'e', 'f'),
        }),
        { minLength: 1, maxLength: 5 },
      ),
    });
    const counters = fc.tuple(
      fc.array(fc.constantFrom(60_000, 90_000, 120_000), { minLength: 3, maxLength: 3 }),
      fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 3 }),
    );
    await fc.assert(
      fc.asyncProperty(
        counters,
        fc.array(step, { minLength: 1, maxLength: 12 }),
        async ([windows, caps], steps) => {
          const run = randomUUID();
          const model = new Model();
          let now = Date.now();
          for (const { advanceMs, ops } of steps) {
            now += advanceMs;
            const keys = ops.map((op) => `${prefix}${run}:${op.key}`);
            const argv = ops.flatMap((op) => [op.member, String(windows[op.key]!), String(caps[op.key]!)]);
            const sec = String(Math.floor(now / 1000));
            const usec = String((now % 1000) * 1000 + Math.floor(Math.random() * 1000));
            const got = await admin.eval(CLOCKED, keys.length, ...keys, ...argv, sec, usec);
            const expected = ops.map((op, i) =>
              model.run(keys[i]!, op.member, windows[op.key]!, caps[op.key]!, now),
            );
            expect(got).toEqual(expected);
            for (const [i, key] of keys.entries()) {
              expect(await admin.zcard(key)).toBeLessThanOrEqual(caps[ops[i]!.key]!);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('under a flood of new members, every key holds at most its cap (scanning the real Redis)', async () => {
    const secret = 'a-fleet-wide-secret-0123456789abcdef';
    const store = new RedisStore({ client: admin, prefix, keySecret: secret });
    const flood = `flood:${randomUUID()}:`;
    const caps = [10, 21, 10, 10];
    const ops = (n: number) =>
      caps.map((cap, i) => ({ key: `${flood}${i}`, member: `n${n}`, windowMs: 600_000, cap }));
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, j) => store.distinct(ops(batch * 50 + j))),
      );
      if (batch > 0) for (const counts of answers) expect(counts).toEqual(caps);
    }
    const hmac = (text: string) => createHmac('sha256', secret).update(text).digest('hex');
    const capOf = new Map(caps.map((cap, i) => [prefix + hmac(`${flood}${i}`), cap]));
    const sizes = new Map<string, number>();
    for (const key of await scanKeys(admin, `${prefix}*`)) {
      if (capOf.has(key)) sizes.set(key, await admin.zcard(key));
    }
    expect(sizes).toEqual(capOf);
  });

  it('with keySecret, keys and members stay the HMAC of their text past the store memo of recent HMACs', async () => {
    const secret = 'a-fleet-wide-secret-0123456789abcdef';
    const store = new RedisStore({ client: admin, prefix, keySecret: secret });
    const hmac = (text: string) => createHmac('sha256', secret).update(text).digest('hex');
    const run = `memo:${randomUUID()}:`;
    // More distinct texts than the memo holds (2,048), so that it empties at least once on the way.
    for (let batch = 0; batch < 25; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          store.distinct([{ key: `${run}${batch * 100 + j}`, member: 'm', windowMs: 600_000, cap: 10 }]),
        ),
      );
    }
    expect(await store.distinct([{ key: `${run}0`, member: 'n', windowMs: 600_000, cap: 10 }])).toEqual([2]);
    expect(await admin.zrange(prefix + hmac(`${run}0`), 0, -1)).toEqual([hmac('m'), hmac('n')]);
    expect(await admin.zrange(prefix + hmac(`${run}2499`), 0, -1)).toEqual([hmac('m')]);
  });
});
