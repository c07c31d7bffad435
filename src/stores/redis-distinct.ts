/** Store.distinct on Redis: one Lua script on Redis's own clock, one call per check (per hash slot on a cluster). */
import { createHash } from 'node:crypto';
import { clusterSlot } from './cluster-slot.js';
import type { Sender } from './redis-sender.js';

/**
 * KEYS are the counters; ARGV holds `member, windowMs, cap` for each, in order. The time is Redis's (`TIME`),
 * so that every server of a fleet counts on one clock. Per key: add the member at now (a repeat refreshes its
 * time; `''` adds nothing), forget members whose age is windowMs or more, keep the `cap` newest, and let the
 * key expire one window after its newest member. Answers the distinct counts, in the order of KEYS.
 */
export const DISTINCT_SCRIPT = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local counts = {}
for i = 1, #KEYS do
  local key, member = KEYS[i], ARGV[i * 3 - 2]
  local window, cap = tonumber(ARGV[i * 3 - 1]), tonumber(ARGV[i * 3])
  if member ~= '' then
    redis.call('ZADD', key, now, member)
    redis.call('PEXPIRE', key, window)
  end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local n = redis.call('ZCARD', key)
  if n > cap then
    redis.call('ZREMRANGEBYRANK', key, 0, n - cap - 1)
    n = cap
  end
  counts[i] = n
end
return counts`;

/** The script's SHA-1, as EVALSHA names it. */
export const DISTINCT_SHA = createHash('sha1').update(DISTINCT_SCRIPT).digest('hex');

/** One op as Redis sees it: the key and member already prefixed and hashed, the numbers as whole numbers. */
export interface RedisDistinctOp {
  key: string;
  member: string;
  windowMs: number;
  cap: number;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The ops' arguments checked and written as Redis reads them: a whole window of at least 1 ms, a cap of at least 1. */
function argv(ops: ReadonlyArray<RedisDistinctOp>): string[] {
  const args: string[] = [];
  for (const op of ops) {
    if (!Number.isFinite(op.windowMs) || !Number.isFinite(op.cap)) {
      throw new TypeError(
        `distinct: windowMs and cap must be finite numbers (got ${op.windowMs}, ${op.cap})`,
      );
    }
    args.push(
      op.member,
      String(Math.max(1, Math.ceil(op.windowMs))),
      String(Math.max(1, Math.floor(op.cap))),
    );
  }
  return args;
}

function counts(reply: unknown, expected: number): number[] {
  if (!Array.isArray(reply) || reply.length !== expected) {
    throw new Error(
      `distinct: Redis answered ${Array.isArray(reply) ? `${reply.length} counts` : typeof reply}, expected ${expected} counts`,
    );
  }
  return reply.map((n) => {
    const count = Number(n);
    if (!Number.isInteger(count) || count < 0)
      throw new Error('distinct: Redis answered a count that is not a whole number');
    return count;
  });
}

/**
 * Runs the counters of one check. On a single node that is one EVALSHA for every key: one round trip. On a
 * cluster the ops are grouped by hash slot and each group goes to its own node, all at once: never a hash tag
 * that would force every counter onto one shard. EVALSHA falls back to EVAL when the node has not seen the
 * script (a restart, a failover, SCRIPT FLUSH); the next EVALSHA then finds it.
 */
export class RedisDistinct {
  readonly #send: Sender['send'];
  #cluster: boolean;

  constructor(sender: Sender) {
    this.#send = sender.send;
    this.#cluster = sender.cluster;
  }

  async run(ops: ReadonlyArray<RedisDistinctOp>): Promise<number[]> {
    if (ops.length === 0) return [];
    if (!this.#cluster) {
      try {
        return await this.#eval(ops);
      } catch (error) {
        // A cluster behind a bare sendCommand function: learn it once, then group by slot from now on.
        if (!message(error).startsWith('CROSSSLOT')) throw error;
        this.#cluster = true;
      }
    }
    return this.#bySlot(ops);
  }

  async #bySlot(ops: ReadonlyArray<RedisDistinctOp>): Promise<number[]> {
    const groups = new Map<number, number[]>();
    for (let i = 0; i < ops.length; i++) {
      const slot = clusterSlot(ops[i]!.key);
      const group = groups.get(slot);
      if (group) group.push(i);
      else groups.set(slot, [i]);
    }
    if (groups.size === 1) return this.#eval(ops);
    const result = new Array<number>(ops.length);
    await Promise.all(
      Array.from(groups.values(), async (indexes) => {
        const answered = await this.#eval(indexes.map((i) => ops[i]!));
        indexes.forEach((i, n) => {
          result[i] = answered[n]!;
        });
      }),
    );
    return result;
  }

  async #eval(ops: ReadonlyArray<RedisDistinctOp>): Promise<number[]> {
    const keys = ops.map((op) => op.key);
    const tail = [String(keys.length), ...keys, ...argv(ops)];
    let reply: unknown;
    try {
      reply = await this.#send(['EVALSHA', DISTINCT_SHA, ...tail], keys[0]);
    } catch (error) {
      if (!message(error).startsWith('NOSCRIPT')) throw error;
      reply = await this.#send(['EVAL', DISTINCT_SCRIPT, ...tail], keys[0]);
    }
    return counts(reply, ops.length);
  }
}
