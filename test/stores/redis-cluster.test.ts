import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Cluster } from 'ioredis';
import { RedisStore } from 'ipmatch/redis';
import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterSlot } from '../../src/stores/cluster-slot.js';
import { clusterNodesFromEnv, deleteClusterKeys } from '../helpers/redis-cluster.js';

const NODES = clusterNodesFromEnv();
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
if (!NODES && IN_CI) {
  throw new Error(
    'REDIS_CLUSTER_NODES is not set under CI=true: the Redis Cluster tests must run in CI (.ci/run starts a ' +
      'cluster and exports it). Locally, `npx vitest run test/stores/redis-cluster.test.ts` starts one itself.',
  );
}
if (!NODES)
  console.warn(
    '\n  Redis Cluster tests SKIPPED: REDIS_CLUSTER_NODES is unset (no redis-server on the PATH).\n',
  );

/** One command as the store sent it: its name, the keys it named, and how many were in flight when it left. */
interface Sent {
  command: string;
  keys: string[];
  inFlight: number;
}

/** The keys of a command the store sends: EVAL/EVALSHA name `numkeys` keys after the script, the others one. */
function keysOf(args: string[]): string[] {
  if (args[0] === 'EVALSHA' || args[0] === 'EVAL') return args.slice(3, 3 + Number(args[2]));
  return [args[1]!];
}

/** Both cluster clients, fail-fast as the docs advise, wrapped so that the test sees every command. */
async function clusterClient(kind: 'ioredis' | 'node-redis') {
  const sent: Sent[] = [];
  /** The first word of every error reply (CROSSSLOT, NOSCRIPT, MOVED…). */
  const errors: string[] = [];
  let inFlight = 0;
  const track = <T>(args: string[], send: () => Promise<T>): Promise<T> => {
    inFlight++;
    sent.push({ command: args[0]!, keys: keysOf(args), inFlight });
    return send()
      .catch((error: Error) => {
        errors.push(error.message.split(' ')[0]!);
        throw error;
      })
      .finally(() => inFlight--);
  };
  if (kind === 'ioredis') {
    const cluster = new Cluster(NODES!, {
      enableOfflineQueue: false,
      redisOptions: { maxRetriesPerRequest: 1 },
    });
    cluster.on('error', () => {});
    await new Promise((resolve) => cluster.once('ready', resolve));
    const client = {
      isCluster: true,
      get status() {
        return cluster.status;
      },
      call: (command: string, ...args: string[]) =>
        track([command, ...args], () => cluster.call(command, ...args)),
    };
    return { client, sent, errors, close: () => cluster.disconnect() };
  }
  const cluster = createCluster({
    rootNodes: NODES!.map((n) => ({ url: `redis://${n.host}:${n.port}` })),
    defaults: { disableOfflineQueue: true },
  });
  cluster.on('error', () => {});
  await cluster.connect();
  const client = {
    masters: cluster.masters,
    sendCommand: (firstKey: string, readonly: boolean, args: string[]) =>
      track(args, () => cluster.sendCommand(firstKey, readonly, args)),
  };
  return { client, sent, errors, close: () => cluster.destroy() };
}

describe.skipIf(!NODES)('clusterSlot', () => {
  let admin: Cluster;
  beforeAll(async () => {
    admin = new Cluster(NODES!);
    await new Promise((resolve) => admin.once('ready', resolve));
  });
  afterAll(() => admin.disconnect());

  it('is CRC16-XMODEM modulo 16384 (check value of "123456789": 0x31C3)', () => {
    expect(clusterSlot('123456789')).toBe(0x31c3 & 16383);
    expect(clusterSlot('')).toBe(0);
  });

  it('agrees with CLUSTER KEYSLOT on any key, hash tags and non-ASCII included', async () => {
    const piece = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.constantFrom('{', '}', '{}', 'é', '🔑', 'ipmatch:'),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 6 }), async (pieces) => {
        const key = pieces.join('');
        expect(clusterSlot(key)).toBe(Number(await admin.cluster('KEYSLOT', key)));
      }),
      { numRuns: 200 },
    );
  });
});

describe.skipIf(!NODES).each(['ioredis', 'node-redis'] as const)(
  'RedisStore on a Redis Cluster with %s',
  (kind) => {
    let conn: Awaited<ReturnType<typeof clusterClient>>;
    let store: RedisStore;
    /** The port of the master that holds each slot. */
    const owner = new Map<number, number>();
    const prefix = `ipmatch-cluster-test:${kind}:${randomUUID()}:`;
    /** `n` random keys whose Redis keys lie on more than one master (bounded: random keys almost always do). */
    const spread = (n: number, keyPrefix = prefix) => {
      for (let attempt = 0; attempt < 100; attempt++) {
        const keys = Array.from({ length: n }, () => randomUUID());
        if (new Set(keys.map((k) => owner.get(clusterSlot(keyPrefix + k)))).size > 1) return keys;
      }
      throw new Error('no keys spread over more than one master in 100 attempts: is the cluster one node?');
    };

    beforeAll(async () => {
      conn = await clusterClient(kind);
      store = new RedisStore({ client: conn.client, prefix });
      const admin = new Cluster(NODES!);
      const slots = (await admin.cluster('SLOTS')) as unknown as Array<[number, number, [string, number]]>;
      for (const [from, to, [, port]] of slots) for (let s = from; s <= to; s++) owner.set(s, port);
      admin.disconnect();
    });
    afterAll(async () => {
      await conn.close();
      await deleteClusterKeys(prefix);
      await deleteClusterKeys(`{${prefix}}`);
    });

    it('caches lookups on every shard: set, get and delete', async () => {
      const keys = spread(12);
      await Promise.all(keys.map((k) => store.set(k, `{"country":"GB","k":"${k}"}`, 60_000)));
      expect(await Promise.all(keys.map((k) => store.get(k)))).toEqual(
        keys.map((k) => `{"country":"GB","k":"${k}"}`),
      );
      await Promise.all(keys.map((k) => store.delete(k)));
      expect(await Promise.all(keys.map((k) => store.get(k)))).toEqual(keys.map(() => null));
    });

    it('takes and releases locks on every shard', async () => {
      const keys = spread(6).map((k) => `${k}:lock`);
      expect(await Promise.all(keys.map((k) => store.lock(k, 10_000)))).toEqual(keys.map(() => true));
      expect(await Promise.all(keys.map((k) => store.lock(k, 10_000)))).toEqual(keys.map(() => false));
      await Promise.all(keys.map((k) => store.unlock(k)));
      expect(await Promise.all(keys.map((k) => store.lock(k, 10_000)))).toEqual(keys.map(() => true));
      await Promise.all(keys.map((k) => store.unlock(k)));
    });

    it('counts across shards: one script per slot, sent in parallel, never CROSSSLOT', async () => {
      const keys = spread(4);
      const check = (member: string) => keys.map((key) => ({ key, member, windowMs: 60_000, cap: 100 }));
      expect(await store.distinct(check('n1'))).toEqual([1, 1, 1, 1]);
      conn.sent.length = 0;
      expect(await store.distinct(check('n2'))).toEqual([2, 2, 2, 2]);
      expect(await store.distinct(check('n1'))).toEqual([2, 2, 2, 2]);
      expect(
        await store.distinct(keys.map((key) => ({ key, member: '', windowMs: 60_000, cap: 100 }))),
      ).toEqual([2, 2, 2, 2]);
      const scripts = conn.sent.filter((s) => s.command === 'EVALSHA' || s.command === 'EVAL');
      for (const s of scripts) expect(new Set(s.keys.map(clusterSlot)).size).toBe(1);
      const slots = new Set(keys.map((k) => clusterSlot(prefix + k)));
      expect(scripts.filter((s) => s.command === 'EVALSHA')).toHaveLength(3 * slots.size);
      // The four counters of one check live on more than one master, and their scripts were in flight together.
      expect(new Set([...slots].map((s) => owner.get(s))).size).toBeGreaterThan(1);
      expect(Math.max(...scripts.map((s) => s.inFlight))).toBeGreaterThan(1);
      // The client was known as a cluster from the start: no command ever crossed slots.
      expect(conn.errors.filter((e) => e !== 'NOSCRIPT')).toEqual([]);
    });

    it('keeps the counters of one slot in one script (a hash tag in the prefix puts them together)', async () => {
      const tagged = new RedisStore({ client: conn.client, prefix: `{${prefix}}` });
      const keys = Array.from({ length: 3 }, () => randomUUID());
      await tagged.distinct(keys.map((key) => ({ key, member: 'x', windowMs: 60_000, cap: 10 })));
      conn.sent.length = 0;
      expect(
        await tagged.distinct(keys.map((key) => ({ key, member: 'y', windowMs: 60_000, cap: 10 }))),
      ).toEqual([2, 2, 2]);
      expect(conn.sent.map((s) => s.command)).toEqual(['EVALSHA']);
    });
  },
);

describe.skipIf(!NODES)('RedisStore on a Redis Cluster behind a bare sendCommand function', () => {
  it('learns from the first CROSSSLOT error to group the counters by slot, and counts right', async () => {
    const cluster = new Cluster(NODES!, { redisOptions: { maxRetriesPerRequest: 1 } });
    cluster.on('error', () => {});
    await new Promise((resolve) => cluster.once('ready', resolve));
    const replies: string[] = [];
    const prefix = `ipmatch-cluster-test:send:${randomUUID()}:`;
    const store = new RedisStore({
      prefix,
      sendCommand: (command, ...args) =>
        cluster.call(command, ...args).catch((error: Error) => {
          replies.push(error.message.split(' ')[0]!);
          throw error;
        }),
    });
    const keys = Array.from({ length: 8 }, () => randomUUID());
    const check = (member: string) => keys.map((key) => ({ key, member, windowMs: 60_000, cap: 100 }));
    expect(await store.distinct(check('a'))).toEqual(keys.map(() => 1));
    expect(await store.distinct(check('b'))).toEqual(keys.map(() => 2));
    expect(replies.filter((r) => r === 'CROSSSLOT')).toHaveLength(1);
    cluster.disconnect();
    await deleteClusterKeys(prefix);
  });
});
