/** Store.distinct on Redis: one Lua script on Redis's own clock, one call per check (per hash slot on a cluster). */
import { createHash } from 'node:crypto';
import { clusterSlot } from './cluster-slot.js';
import type { Sender } from './redis-sender.js';

/**
 * KEYS are the counters; ARGV holds `member, windowMs, cap` for each, in order, as whole numbers. The time is
 * Redis's (`TIME`), so that every server of a fleet counts on one clock. Per key: add the member at now (a repeat
 * refreshes its time; `''` adds nothing), keep the `cap` newest members, let the key expire one window after its
 * newest member, and answer how many members are younger than the window (`ZCOUNT`), at most `cap`. Members
 * older than the window are not counted; they stay until newer ones push them out of the `cap` or the key
 * expires: at most `cap` per key either way. Each add costs ZADD and PEXPIRE; a new member adds ZCARD (and the
 * trim when the set passes its cap); a new key needs no count. Numbers go to Redis as text written once (the
 * time) or as given (the window): Redis formats a Lua number with printf's %.17g, a tenth of the script's time.
 */
export const DISTINCT_SCRIPT = `local t = redis.call('TIME')
local ms = math.floor(tonumber(t[2]) / 1000)
local now = tonumber(t[1]) * 1000 + ms
local score = t[1] .. string.format('%03d', ms)
local counts = {}
for i = 1, #KEYS do
  local key, member, window = KEYS[i], ARGV[i * 3 - 2], ARGV[i * 3 - 1]
  local cap = tonumber(ARGV[i * 3])
  local n = -1
  if member ~= '' then
    if redis.call('ZADD', key, score, member) == 1 then
      local size = redis.call('ZCARD', key)
      if size == 1 then
        n = 1
      elseif size > cap then
        redis.call('ZREMRANGEBYRANK', key, '0', string.format('%d', size - cap - 1))
      end
    end
    redis.call('PEXPIRE', key, window)
  end
  if n < 0 then
    n = redis.call('ZCOUNT', key, string.format('(%d', now - tonumber(window)), '+inf')
  end
  counts[i] = n > cap and cap or n
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

/** A whole number of at least 1, as Redis reads it; throws on a value that is not a finite number. */
function whole(value: number, round: (x: number) => number, op: RedisDistinctOp): string {
  if (!Number.isFinite(value)) {
    throw new TypeError(`distinct: windowMs and cap must be finite numbers (got ${op.windowMs}, ${op.cap})`);
  }
  return String(Math.max(1, round(value)));
}

/**
 * The command's arguments after its first two (EVALSHA and the SHA, or EVAL and the script): the key count, the
 * keys, then each op's member, whole window (at least 1 ms) and whole cap (at least 1). Slots 0 and 1 are left for
 * the caller, so that the one array is the command.
 */
function command(ops: ReadonlyArray<RedisDistinctOp>): string[] {
  const n = ops.length;
  const args = new Array<string>(3 + 4 * n);
  args[2] = String(n);
  for (let i = 0; i < n; i++) {
    const op = ops[i]!;
    args[3 + i] = op.key;
    const at = 3 + n + 3 * i;
    args[at] = op.member;
    args[at + 1] = whole(op.windowMs, Math.ceil, op);
    args[at + 2] = whole(op.cap, Math.floor, op);
  }
  return args;
}

function counts(reply: unknown, expected: number): number[] {
  if (!Array.isArray(reply) || reply.length !== expected) {
    throw new Error(
      `distinct: Redis answered ${Array.isArray(reply) ? `${reply.length} counts` : typeof reply}, expected ${expected} counts`,
    );
  }
  const result = new Array<number>(expected);
  for (let i = 0; i < expected; i++) {
    const count = Number(reply[i]);
    if (!Number.isInteger(count) || count < 0)
      throw new Error('distinct: Redis answered a count that is not a whole number');
    result[i] = count;
  }
  return result;
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

  run(ops: ReadonlyArray<RedisDistinctOp>): Promise<number[]> {
    if (ops.length === 0) return Promise.resolve([]);
    if (this.#cluster) return this.#bySlot(ops);
    // Promise callbacks, not async functions: each async layer is one more promise and microtask per check.
    return this.#eval(ops).catch((error: unknown) => {
      // A cluster behind a bare sendCommand function: learn it once, then group by slot from now on.
      if (!message(error).startsWith('CROSSSLOT')) throw error;
      this.#cluster = true;
      return this.#bySlot(ops);
    });
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

  #eval(ops: ReadonlyArray<RedisDistinctOp>): Promise<number[]> {
    let args: string[];
    try {
      args = command(ops);
    } catch (error) {
      return Promise.reject(error);
    }
    const key = ops[0]!.key;
    const n = ops.length;
    args[0] = 'EVALSHA';
    args[1] = DISTINCT_SHA;
    return this.#call(args, key).then(
      (reply) => counts(reply, n),
      (error: unknown) => {
        if (!message(error).startsWith('NOSCRIPT')) throw error;
        // A new array: a client may still hold the one it was given (a retry queue).
        const load = args.slice();
        load[0] = 'EVAL';
        load[1] = DISTINCT_SCRIPT;
        return this.#call(load, key).then((reply) => counts(reply, n));
      },
    );
  }

  /** One command as a promise, as `await` would take it: a synchronous throw or a plain value included. */
  #call(args: string[], key: string): Promise<unknown> {
    try {
      return Promise.resolve(this.#send(args, key));
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
