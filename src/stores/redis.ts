/** RedisStore: the Store contract on ioredis or node-redis, keys prefixed and lookups locked across a fleet. */
import * as z from 'zod/mini';
import type { DistinctOp, Store } from '../core/store.js';
import { holdsSecrets, parseOptions, wholeNumber } from '../core/validate.js';
import { hmacSha256Hex } from './hmac.js';
import { RedisDistinct, type RedisDistinctOp } from './redis-distinct.js';
import {
  type IoRedisLike,
  type NodeRedisClusterLike,
  type NodeRedisLike,
  type RedisClientLike,
  type Send,
  sender,
  text,
} from './redis-sender.js';

export type { IoRedisLike, NodeRedisClusterLike, NodeRedisLike };

/** Options of `new RedisStore()`. Pass `client` or `sendCommand`. */
export interface RedisStoreOptions {
  /**
   * A connected ioredis or node-redis (v4+) client, cluster (ioredis `Cluster`, node-redis `createCluster()`)
   * or pool. ipmatch never connects, quits or configures it. For ioredis, `{ enableOfflineQueue: false,
   * maxRetriesPerRequest: 1 }` makes commands fail at once during an outage instead of queueing (each store call
   * is cut after `cache.storeTimeoutMs` or `velocity.timeoutMs` anyway). With node-redis, add
   * `client.on('error', …)`: without a listener, a lost connection crashes the process.
   */
  client?: RedisClientLike | undefined;
  /**
   * Sends one command and resolves to Redis's reply, for any other client, as in rate-limit-redis:
   * `(...args) => client.sendCommand(args)` (node-redis) or `(command, ...args) => client.call(command, ...args)`
   * (ioredis). A cluster is better passed as `client`: behind a function, the velocity counters learn that
   * keys must be grouped by slot from the first CROSSSLOT error. Default: none.
   */
  sendCommand?: ((...args: string[]) => Promise<unknown>) | undefined;
  /** Put before every key, to share one Redis with other data. Default 'ipmatch:'. */
  prefix?: string | undefined;
  /**
   * A secret shared by every server of the fleet (at least 16 characters, e.g. 32 random bytes in hex). With
   * it, each key is a keyed hash (HMAC-SHA256) of the core's key: someone who can read Redis but does not
   * know the secret cannot test whether a given phone number is in the cache by hashing candidates. Every
   * server must use the same secret to share lookups. The velocity counters' members are hashed with it too.
   * Default: none (keys and members are the core's own hashes).
   */
  keySecret?: string | undefined;
  /**
   * The longest a lock may live, in ms, whatever the check asks (by default the check's remaining budget).
   * Lower it to cap how long a server that died mid-lookup can hold others back. Default: no cap.
   */
  lockTtlMs?: number | undefined;
}

const WHERE = 'RedisStore options';

/** The most HMACs a RedisStore remembers (about 300 KB); the memo is emptied when full, so it stays bounded. */
const HMAC_MEMO = 2048;

const clientSchema = z.custom<NonNullable<RedisStoreOptions['client']>>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    (typeof (v as IoRedisLike).call === 'function' || typeof (v as NodeRedisLike).sendCommand === 'function'),
  {
    message:
      'expected an ioredis client (new Redis(url)) or a connected node-redis client (await createClient({ url }).connect())',
  },
);

// It holds keySecret: a config error never shows a value it was given (a secret pasted into lockTtlMs…).
const schema = holdsSecrets(
  z
    .strictObject({
      client: z.optional(clientSchema),
      sendCommand: z.optional(
        z.custom<NonNullable<RedisStoreOptions['sendCommand']>>((v) => typeof v === 'function', {
          message:
            'expected a function (...args: string[]) => Promise<reply>, e.g. (...args) => client.sendCommand(args)',
        }),
      ),
      prefix: z._default(z.string().check(z.maxLength(256)), 'ipmatch:'),
      keySecret: z.optional(z.string().check(z.minLength(16, 'expected a secret of at least 16 characters'))),
      lockTtlMs: z.optional(wholeNumber(1, 600_000)),
    })
    .check(
      z.superRefine((o, ctx) => {
        if (o.client === undefined && o.sendCommand === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['client'],
            message:
              'pass a Redis client: new RedisStore({ client: new Redis(process.env.REDIS_URL) }) with ioredis, ' +
              'new RedisStore({ client: await createClient({ url }).connect() }) with node-redis, ' +
              'or new RedisStore({ sendCommand: (...args) => client.sendCommand(args) })',
          });
        }
        if (o.client !== undefined && o.sendCommand !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['sendCommand'],
            message: 'pass client or sendCommand, not both',
          });
        }
      }),
    ),
);

/**
 * A `Store` in Redis, so that every server of a fleet shares remote lookups: one server pays for a number,
 * the others read its result. Expiry is Redis's own (`SET … PX`). With `cache: { lock: true }`, a short
 * `SET NX PX` lock lets concurrent checks of one number across servers make one upstream call. The velocity
 * counters (`distinct`) count exactly across the fleet, on Redis's clock. Works on a single node and on a
 * Redis Cluster (ioredis `Cluster`, node-redis `createCluster()`).
 *
 * @example
 * import { Redis } from 'ioredis';
 * import { RedisStore } from 'ipmatch/redis';
 * const store = new RedisStore({ client: new Redis(process.env.REDIS_URL, { enableOfflineQueue: false }) });
 * const ipm = createIpMatch({ provider, cache: { store, lock: true } });
 */
export class RedisStore implements Store {
  readonly #send: Send;
  readonly #distinct: RedisDistinct;
  readonly #prefix: string;
  /** HMAC-SHA256 under `keySecret`, when there is one. */
  readonly #hmac: ((text: string) => string) | undefined;
  /** Recent texts' HMACs (~1.5 µs each): a check's number is the member of up to four counters, and its country,
   * subnet and block recur from check to check. */
  readonly #memo = new Map<string, string>();
  readonly #lockTtlMs: number | undefined;

  constructor(options: RedisStoreOptions) {
    const opts = parseOptions(schema, options, WHERE);
    const to = sender(opts);
    this.#send = to.send;
    this.#distinct = new RedisDistinct(to);
    this.#prefix = opts.prefix;
    this.#hmac = opts.keySecret === undefined ? undefined : hmacSha256Hex(opts.keySecret);
    this.#lockTtlMs = opts.lockTtlMs;
  }

  /** The Redis key for a core key: the prefix, then the core key or, with `keySecret`, its HMAC-SHA256. */
  #key(key: string): string {
    return this.#prefix + this.#hash(key);
  }

  /** `text`, or with `keySecret` its HMAC-SHA256 in hex, from the memo when `text` came lately. */
  #hash(text: string): string {
    if (!this.#hmac) return text;
    let hashed = this.#memo.get(text);
    if (hashed === undefined) {
      if (this.#memo.size >= HMAC_MEMO) this.#memo.clear();
      hashed = this.#hmac(text);
      this.#memo.set(text, hashed);
    }
    return hashed;
  }

  async get(key: string): Promise<string | null> {
    return text(await this.#send(['GET', this.#key(key)]));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.#send(['SET', this.#key(key), value, 'PX', String(Math.max(1, Math.ceil(ttlMs)))]);
  }

  async delete(key: string): Promise<void> {
    await this.#send(['DEL', this.#key(key)]);
  }

  /** `SET key 1 NX PX ttl`: true when this caller took the lock, false when another holds it. */
  async lock(key: string, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(Math.min(ttlMs, this.#lockTtlMs ?? ttlMs)));
    return text(await this.#send(['SET', this.#key(key), '1', 'NX', 'PX', String(ttl)])) === 'OK';
  }

  async unlock(key: string): Promise<void> {
    await this.#send(['DEL', this.#key(key)]);
  }

  /**
   * The velocity counters of one check: one sorted set per key (`prefix` + the key, HMAC'd with `keySecret`),
   * whose members are the core's member hashes (HMAC'd again with `keySecret`) scored by the Redis time, in ms,
   * they were last seen. Nothing else is stored: no number, prefix, IP or country in clear. One Lua script on
   * Redis's clock keeps each set's `cap` newest members, counts those younger than the window, and expires the set
   * one window after its newest member. One round trip per check on a single node; on a cluster one per hash slot, in parallel.
   */
  async distinct(ops: ReadonlyArray<DistinctOp>): Promise<number[]> {
    const sent = new Array<RedisDistinctOp>(ops.length);
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      sent[i] = {
        key: this.#key(op.key),
        member: op.member === '' ? '' : this.#hash(op.member),
        windowMs: op.windowMs,
        cap: op.cap,
      };
    }
    return this.#distinct.run(sent);
  }
}
