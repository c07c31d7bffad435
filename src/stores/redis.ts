/** RedisStore: the Store contract on ioredis or node-redis, keys prefixed and lookups locked across a fleet. */
import { createHmac } from 'node:crypto';
import * as z from 'zod/mini';
import type { Store } from '../core/store.js';
import { holdsSecrets, parseOptions, wholeNumber } from '../core/validate.js';

/**
 * The part of an ioredis client (`new Redis()` or `new Cluster()`) this store uses. Typed by shape so that a
 * node-redis user never needs ioredis's types, and the other way round.
 */
export interface IoRedisLike {
  call(command: string, ...args: string[]): Promise<unknown>;
  /** 'ready' when connected; 'reconnecting' during an outage. */
  readonly status?: string;
}

/** The part of a node-redis v4+ client (`createClient()`, `createClientPool()`) this store uses. */
export interface NodeRedisLike {
  sendCommand(args: string[]): Promise<unknown>;
  readonly isOpen?: boolean;
  readonly isReady?: boolean;
}

/** The part of a node-redis v4+ cluster (`createCluster()`) this store uses: commands are routed by their key. */
export interface NodeRedisClusterLike {
  sendCommand(firstKey: string, isReadonly: boolean, args: string[]): Promise<unknown>;
  readonly masters: unknown;
}

/** Options of `new RedisStore()`. Pass `client` or `sendCommand`. */
export interface RedisStoreOptions {
  /**
   * A connected ioredis or node-redis (v4+) client, cluster or pool. ipmatch never connects, quits or
   * configures it. For ioredis, `{ enableOfflineQueue: false, maxRetriesPerRequest: 1 }` makes commands fail at
   * once during an outage instead of queueing (each store call is cut after `cache.storeTimeoutMs` anyway).
   * With node-redis, add `client.on('error', …)`: without a listener, a lost connection crashes the process.
   */
  client?: IoRedisLike | NodeRedisLike | NodeRedisClusterLike | undefined;
  /**
   * Sends one command and resolves to Redis's reply, for any other client, as in rate-limit-redis:
   * `(...args) => client.sendCommand(args)` (node-redis) or `(command, ...args) => client.call(command, ...args)`
   * (ioredis). Default: none.
   */
  sendCommand?: ((...args: string[]) => Promise<unknown>) | undefined;
  /** Put before every key, to share one Redis with other data. Default 'ipmatch:'. */
  prefix?: string | undefined;
  /**
   * A secret shared by every server of the fleet (at least 16 characters, e.g. 32 random bytes in hex). With
   * it, each key is a keyed hash (HMAC-SHA256) of the core's key: someone who can read Redis but does not
   * know the secret cannot test whether a given phone number is in the cache by hashing candidates. Every
   * server must use the same secret to share lookups. Default: none (keys are the core's SHA-256).
   */
  keySecret?: string | undefined;
  /**
   * The longest a lock may live, in ms, whatever the check asks (by default the check's remaining budget).
   * Lower it to cap how long a server that died mid-lookup can hold others back. Default: no cap.
   */
  lockTtlMs?: number | undefined;
}

const WHERE = 'RedisStore options';

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

type Send = (args: string[]) => Promise<unknown>;

/**
 * How to talk to the given client. A client known to be reconnecting fails at once: queueing commands during
 * an outage would only grow its memory, and the check carries on without the cache either way.
 */
function sender(options: {
  client?: RedisStoreOptions['client'];
  sendCommand?: RedisStoreOptions['sendCommand'];
}): Send {
  const { client, sendCommand } = options;
  if (!client) return (args) => sendCommand!(...args);
  if (typeof (client as IoRedisLike).call === 'function') {
    const io = client as IoRedisLike;
    return (args) => {
      if (io.status === 'reconnecting' || io.status === 'close' || io.status === 'end') {
        return Promise.reject(new Error(`Redis is not connected (ioredis status '${io.status}')`));
      }
      const [command, ...rest] = args;
      return io.call(command!, ...rest);
    };
  }
  if ('masters' in client) {
    const cluster = client as NodeRedisClusterLike;
    return (args) => cluster.sendCommand(args[1]!, args[0] === 'GET', args);
  }
  const node = client as NodeRedisLike;
  return (args) => {
    if (node.isOpen === true && node.isReady === false) {
      return Promise.reject(new Error('Redis is not connected (node-redis is reconnecting)'));
    }
    return node.sendCommand(args);
  };
}

const text = (reply: unknown): string | null =>
  typeof reply === 'string' ? reply : Buffer.isBuffer(reply) ? reply.toString('utf8') : null;

/**
 * A `Store` in Redis, so that every server of a fleet shares remote lookups: one server pays for a number,
 * the others read its result. Expiry is Redis's own (`SET … PX`). With `cache: { lock: true }`, a short
 * `SET NX PX` lock lets concurrent checks of one number across servers make one upstream call.
 *
 * @example
 * import { Redis } from 'ioredis';
 * import { RedisStore } from 'ipmatch/redis';
 * const store = new RedisStore({ client: new Redis(process.env.REDIS_URL, { enableOfflineQueue: false }) });
 * const ipm = createIpMatch({ provider, cache: { store, lock: true } });
 */
export class RedisStore implements Store {
  readonly #send: Send;
  readonly #prefix: string;
  readonly #keySecret: string | undefined;
  readonly #lockTtlMs: number | undefined;

  constructor(options: RedisStoreOptions) {
    const opts = parseOptions(schema, options, WHERE);
    this.#send = sender(opts);
    this.#prefix = opts.prefix;
    this.#keySecret = opts.keySecret;
    this.#lockTtlMs = opts.lockTtlMs;
  }

  /** The Redis key for a core key: the prefix, then the core key or, with `keySecret`, its HMAC-SHA256. */
  #key(key: string): string {
    const name = this.#keySecret ? createHmac('sha256', this.#keySecret).update(key).digest('hex') : key;
    return this.#prefix + name;
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
}
