/** The Redis clients RedisStore accepts, told apart by shape, and how one command reaches the right node. */

/**
 * The part of an ioredis client (`new Redis()` or `new Cluster()`) this store uses. Typed by shape so that a
 * node-redis user never needs ioredis's types, and the other way round.
 */
export interface IoRedisLike {
  call(command: string, ...args: string[]): Promise<unknown>;
  /** 'ready' when connected; 'reconnecting' during an outage. */
  readonly status?: string;
  /** `true` on an ioredis `Cluster`: keys of different slots then go in different commands. */
  readonly isCluster?: boolean;
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

export type RedisClientLike = IoRedisLike | NodeRedisLike | NodeRedisClusterLike;

/** One command to Redis. On a cluster it goes to the node that holds `key` (default: the command's first key). */
export type Send = (args: string[], key?: string) => Promise<unknown>;

export interface Sender {
  send: Send;
  /**
   * True for a cluster client: a command may only name keys of one slot. With a bare `sendCommand` function
   * the store cannot tell, and learns it from the first CROSSSLOT error.
   */
  cluster: boolean;
}

const READONLY = new Set(['GET']);

/**
 * How to talk to the given client. A client known to be reconnecting fails at once: queueing commands during
 * an outage would only grow its memory, and the check carries on without the store either way.
 */
export function sender(options: {
  client?: RedisClientLike | undefined;
  sendCommand?: ((...args: string[]) => Promise<unknown>) | undefined;
}): Sender {
  const { client, sendCommand } = options;
  if (!client) return { send: (args) => sendCommand!(...args), cluster: false };
  if (typeof (client as IoRedisLike).call === 'function') {
    const io = client as IoRedisLike;
    // ioredis routes a command by its first key itself (for EVALSHA, the first of its KEYS).
    const send: Send = (args) => {
      if (io.status === 'reconnecting' || io.status === 'close' || io.status === 'end') {
        return Promise.reject(new Error(`Redis is not connected (ioredis status '${io.status}')`));
      }
      return io.call(...(args as [string, ...string[]]));
    };
    return { send, cluster: io.isCluster === true };
  }
  if ('masters' in client) {
    const cluster = client as NodeRedisClusterLike;
    return {
      send: (args, key = args[1]!) => cluster.sendCommand(key, READONLY.has(args[0]!), args),
      cluster: true,
    };
  }
  const node = client as NodeRedisLike;
  const send: Send = (args) => {
    if (node.isOpen === true && node.isReady === false) {
      return Promise.reject(new Error('Redis is not connected (node-redis is reconnecting)'));
    }
    return node.sendCommand(args);
  };
  return { send, cluster: false };
}

/** A bulk string reply as text, whichever form the client gives it in. */
export const text = (reply: unknown): string | null =>
  typeof reply === 'string' ? reply : Buffer.isBuffer(reply) ? reply.toString('utf8') : null;
