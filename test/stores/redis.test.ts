import { createHmac, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createIpMatch, type IpMatch, IpMatchConfigError, type PhoneLookup, vonageProvider } from 'ipmatch';
import { RedisStore, type RedisStoreOptions } from 'ipmatch/redis';
import { type FakeVonage, startFakeVonage } from 'ipmatch/testing';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LookupCache } from '../../src/core/lookup/cache.js';
import { memoryLogger } from '../helpers/logger.js';
import { hasRedisServer, startRedisServer } from '../helpers/redis-server.js';
import { stubRemoteProvider } from '../helpers/stub-provider.js';

const REDIS_URL = process.env.REDIS_URL;
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
const HOW_TO_RUN =
  'redis-server --port 6390 --save "" --appendonly no --daemonize yes && ' +
  'REDIS_URL=redis://127.0.0.1:6390 npx vitest run test/stores/redis.test.ts';

if (!REDIS_URL && IN_CI) {
  throw new Error(
    `REDIS_URL is not set under CI=true: the Redis tests must run in CI (.ci/run exports it). ${HOW_TO_RUN}`,
  );
}
// Outside CI a missing REDIS_URL means no redis-server either: test/setup/redis.ts said so in one line.
const HAS_REDIS_SERVER = hasRedisServer();
if (REDIS_URL && !HAS_REDIS_SERVER) {
  if (IN_CI)
    throw new Error('redis-server is not on PATH under CI=true: the outage test starts its own server');
  console.warn('\n  Redis outage test SKIPPED: it starts its own redis-server, which is not on PATH.\n');
}

const GB_PHONE = '+447400123456';
const US_PHONE = '+12025550123';
const FR_PHONE = '+33612345678';
const DE_PHONE = '+4915123456789';
const GB_IP = '81.2.69.160';
const KR_IP = '211.234.0.1';
const STORED_FIELDS = ['country', 'legacyIp', 'networkType', 'roamingCountry', 'valid'];
const KEY_SECRET = 'a-fleet-wide-secret-0123456789abcdef';

/** A client of each kind the store accepts, connected to `url`; `store()` builds a RedisStore on it. */
type Kind = 'ioredis' | 'node-redis' | 'sendCommand over node-redis' | 'sendCommand over ioredis';
interface Connection {
  store(options?: Omit<RedisStoreOptions, 'client' | 'sendCommand'>): RedisStore;
  close(): void;
}

async function connect(kind: Kind, url: string): Promise<Connection> {
  if (kind === 'ioredis') {
    // Default options (offline queue on, 20 retries per request): the store's timeouts must cover them.
    const client = new Redis(url);
    client.on('error', () => {});
    await client.ping();
    return { store: (o) => new RedisStore({ client, ...o }), close: () => client.disconnect() };
  }
  if (kind === 'sendCommand over ioredis') {
    // The store cannot see this client's status: during an outage its commands queue and are retried, and
    // only the core's storeTimeoutMs keeps checks from waiting on them.
    const client = new Redis(url);
    client.on('error', () => {});
    await client.ping();
    const sendCommand = (command: string, ...args: string[]) => client.call(command, ...args);
    return { store: (o) => new RedisStore({ sendCommand, ...o }), close: () => client.disconnect() };
  }
  const client = createClient({ url });
  client.on('error', () => {}); // without a listener, node-redis throws on a lost connection
  await client.connect();
  const close = () => client.destroy();
  if (kind === 'node-redis') return { store: (o) => new RedisStore({ client, ...o }), close };
  // As rate-limit-redis documents it: the store never sees the client, so it cannot tell when it is offline.
  return {
    store: (o) => new RedisStore({ sendCommand: (...args) => client.sendCommand(args), ...o }),
    close,
  };
}

/** Every key in Redis (not only ipmatch's), with its value when it is a string. */
async function scanAll(admin: Redis): Promise<{ key: string; type: string; value: string | null }[]> {
  const found: { key: string; type: string; value: string | null }[] = [];
  let cursor = '0';
  for (let round = 0; round < 10_000; round++) {
    const [next, keys] = await admin.scan(cursor, 'COUNT', 1000);
    for (const key of keys) {
      const type = await admin.type(key);
      found.push({ key, type, value: type === 'string' ? await admin.get(key) : null });
    }
    cursor = next;
    if (cursor === '0') break;
  }
  return found;
}

async function keysUnder(admin: Redis, prefix: string): Promise<string[]> {
  return (await scanAll(admin)).map((e) => e.key).filter((k) => k.startsWith(prefix));
}

/** Every way a number could be written down in a key or a value. */
function spellings(e164: string): string[] {
  const phone = parsePhoneNumberFromString(e164)!;
  return [e164, e164.slice(1), phone.nationalNumber, phone.formatNational(), phone.formatInternational()];
}

const gb = (): PhoneLookup => ({ country: 'GB', roamingCountry: null });

const KINDS: Kind[] = ['ioredis', 'node-redis', 'sendCommand over node-redis', 'sendCommand over ioredis'];

describe.skipIf(!REDIS_URL).each(KINDS)('RedisStore with %s', (kind) => {
  let admin: Redis;
  let fake: FakeVonage;
  let prefix: string;
  const connections: Connection[] = [];
  const cores: IpMatch[] = [];

  async function core(
    options: Parameters<typeof createIpMatch>[0],
    storeOptions: { keySecret?: string } = {},
  ) {
    const conn = await connect(kind, REDIS_URL!);
    connections.push(conn);
    const { cache, ...rest } = options ?? {};
    // A generous store timeout: these tests count upstream calls, and a loaded CI machine can take more than
    // the default 50 ms for a round trip. The outage test keeps the default.
    const store = conn.store({ prefix, ...storeOptions });
    // A set still in flight when a test disconnects warns in the next test: kept in memory, not printed.
    // Velocity would count in this RedisStore too (it has distinct): these tests are about the lookup cache, and
    // count its keys; test/stores/redis-distinct.test.ts and redis-velocity-privacy.test.ts hold the counters.
    const ipm = createIpMatch({
      logger: memoryLogger(),
      velocity: false,
      ...rest,
      cache: { storeTimeoutMs: 1000, ...(cache || {}), store },
    });
    cores.push(ipm);
    return ipm;
  }
  /** The result is stored after the decision is returned: wait (bounded) until it is in Redis. */
  async function stored(key: string) {
    for (let i = 0; i < 40 && (await admin.exists(key)) === 0; i++) await sleep(5);
  }
  const vonage = (extra: { sendIp?: boolean } = {}) =>
    vonageProvider({ apiKey: 'test-key', apiSecret: 'test-secret', baseUrl: fake.url, ...extra });

  beforeAll(async () => {
    admin = new Redis(REDIS_URL!);
    fake = await startFakeVonage({ ip: { ip_match_level: 'mismatch', ip_country: 'KR' } });
  });
  afterAll(async () => {
    await fake.close();
    admin.disconnect();
  });
  beforeEach(() => {
    prefix = `ipmatch-test:${randomUUID().slice(0, 8)}:`;
    fake.reset();
  });
  afterEach(async () => {
    await Promise.all(cores.splice(0).map((c) => c.close()));
    for (const c of connections.splice(0)) c.close();
    const keys = await keysUnder(admin, prefix);
    if (keys.length > 0) await admin.del(...keys);
  });

  it('lets two cores on one Redis pay for one lookup', async () => {
    const a = await core({ provider: vonage() });
    const b = await core({ provider: vonage() });
    const first = await a.check({ phone: GB_PHONE, ip: GB_IP });
    const second = await b.check({ phone: GB_PHONE, ip: KR_IP });
    expect(fake.calls).toBe(1);
    expect(first).toMatchObject({ cached: false, matchLevel: 'country', provider: 'vonage' });
    expect(second).toMatchObject({
      cached: true,
      matchLevel: 'mismatch',
      reason: 'country_mismatch',
      phone: { number: GB_PHONE, country: 'GB', roamingCountry: null, networkType: 'mobile', valid: true },
      ip: { country: 'KR' },
    });
    expect(second.cost).toBeUndefined();
  });

  it("expires lookups with Redis's own TTL (PX)", async () => {
    const provider = stubRemoteProvider(gb);
    const long = await core({ provider, cache: { ttlMs: 60_000 } });
    await long.check({ phone: GB_PHONE, ip: GB_IP });
    const key = prefix + (await LookupCache.key('stub', GB_PHONE, null));
    await stored(key);
    const pttl = await admin.pttl(key!);
    expect(pttl).toBeGreaterThan(55_000);
    expect(pttl).toBeLessThanOrEqual(60_000);

    const short = await core({ provider, cache: { ttlMs: 300 } });
    await short.check({ phone: US_PHONE, ip: GB_IP });
    const shortKey = prefix + (await LookupCache.key('stub', US_PHONE, null));
    await stored(shortKey);
    const shortTtl = await admin.pttl(shortKey);
    expect(shortTtl).toBeGreaterThan(0);
    expect(shortTtl).toBeLessThanOrEqual(300);
    for (let i = 0; i < 40 && (await admin.exists(shortKey)) === 1; i++) await sleep(50);
    expect(await admin.exists(shortKey)).toBe(0);
    // Gone from Redis: the next check (on a fresh core, so no in-process copy either) pays again.
    const later = await core({ provider, cache: { ttlMs: 300 } });
    expect(await later.check({ phone: US_PHONE, ip: GB_IP })).toMatchObject({ cached: false });
    expect(provider.calls).toBe(3);
  });

  it('keeps every phone number out of Redis: a SCAN of all keys and values finds none', async () => {
    const plain = await core({ provider: vonage(), cache: { lock: true } });
    const keyed = await core({ provider: vonage() }, { keySecret: KEY_SECRET });
    const withIp = await core({ provider: vonage({ sendIp: true }) }, { keySecret: KEY_SECRET });
    const numbers = [GB_PHONE, US_PHONE, FR_PHONE, DE_PHONE];
    for (const phone of numbers) {
      for (const ipm of [plain, keyed, withIp]) await ipm.check({ phone, ip: GB_IP });
    }
    // Results are stored, and locks released, just after each decision: wait (bounded) for all of them.
    for (let i = 0; i < 100 && (await keysUnder(admin, prefix)).length !== numbers.length * 3; i++)
      await sleep(30);

    const all = await scanAll(admin);
    const ours = all.filter((e) => e.key.startsWith(prefix));
    expect(ours).toHaveLength(numbers.length * 3);
    for (const { key, type, value } of ours) {
      expect(type).toBe('string');
      expect(key).toMatch(new RegExp(`^${prefix}[0-9a-f]{64}$`));
      expect(Object.keys(JSON.parse(value!)).every((f) => STORED_FIELDS.includes(f))).toBe(true);
    }
    const text = all.map((e) => `${e.key}\n${e.value ?? ''}`).join('\n');
    for (const phone of numbers)
      for (const spelling of spellings(phone)) expect(text).not.toContain(spelling);
    expect(text).not.toContain(GB_IP);
    expect(text).not.toMatch(/Fake Vonage Carrier|00101|EUR|remaining/i);

    // The keys are the core's SHA-256, or with keySecret its HMAC: without the secret, hashing candidate
    // numbers does not find them.
    const coreKey = await LookupCache.key('vonage:advanced', GB_PHONE, null);
    const keys = new Set(ours.map((e) => e.key));
    expect(keys.has(prefix + coreKey)).toBe(true);
    expect(keys.has(prefix + createHmac('sha256', KEY_SECRET).update(coreKey).digest('hex'))).toBe(true);
    const withIpKey = await LookupCache.key('vonage:advanced', GB_PHONE, GB_IP);
    expect(keys.has(prefix + createHmac('sha256', KEY_SECRET).update(withIpKey).digest('hex'))).toBe(true);
    // The legacy IP verdict is kept (it decides the match), without the address.
    const legacy = ours.map((e) => JSON.parse(e.value!)).filter((v) => v.legacyIp);
    expect(legacy).toHaveLength(numbers.length);
    expect(legacy[0].legacyIp).toEqual({ matchLevel: 'mismatch', country: 'KR' });
  });

  it('with the lock, makes 1 upstream call for a burst of 20 checks over 2 cores', async () => {
    const providers = [stubRemoteProvider(gb, { delayMs: 100 }), stubRemoteProvider(gb, { delayMs: 100 })];
    const cores2 = [
      await core({ provider: providers[0], cache: { lock: true } }),
      await core({ provider: providers[1], cache: { lock: true } }),
    ];
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => cores2[i % 2]!.check({ phone: GB_PHONE, ip: GB_IP })),
    );
    expect(providers[0]!.calls + providers[1]!.calls).toBe(1);
    expect(decisions.filter((d) => !d.cached)).toHaveLength(1);
    expect(decisions.every((d) => d.matchLevel === 'country')).toBe(true);
    // The lock is released once the result is stored: only the result stays.
    for (let i = 0; i < 20 && (await keysUnder(admin, prefix)).length > 1; i++) await sleep(25);
    expect(await keysUnder(admin, prefix)).toEqual([
      prefix + (await LookupCache.key('stub', GB_PHONE, null)),
    ]);
  });

  it('without the lock, makes at most one call per core for the same burst', async () => {
    const providers = [stubRemoteProvider(gb, { delayMs: 100 }), stubRemoteProvider(gb, { delayMs: 100 })];
    const cores2 = [await core({ provider: providers[0] }), await core({ provider: providers[1] })];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => cores2[i % 2]!.check({ phone: GB_PHONE, ip: GB_IP })),
    );
    expect(providers[0]!.calls).toBeLessThanOrEqual(1);
    expect(providers[1]!.calls).toBeLessThanOrEqual(1);
    expect(providers[0]!.calls + providers[1]!.calls).toBeGreaterThanOrEqual(1);
  });

  it.skipIf(!HAS_REDIS_SERVER)(
    'answers within budget while Redis is down, and uses it again once it is back',
    async () => {
      const server = await startRedisServer();
      try {
        const url = `redis://127.0.0.1:${server.port}`;
        const conn = await connect(kind, url);
        connections.push(conn);
        const logger = memoryLogger();
        const provider = stubRemoteProvider((n) => ({
          country: n.startsWith('+1') ? 'US' : 'GB',
          roamingCountry: null,
        }));
        const timeoutMs = 1000;
        const ipm = createIpMatch({
          provider,
          logger,
          timeoutMs,
          cache: { store: conn.store({ prefix }), lock: true, storeTimeoutMs: 50 },
        });
        cores.push(ipm);
        await ipm.check({ phone: GB_PHONE, ip: GB_IP });
        expect(await ipm.check({ phone: GB_PHONE, ip: GB_IP })).toMatchObject({ cached: true });
        expect(provider.calls).toBe(1);

        await server.stop();
        const outage = [
          [GB_PHONE, GB_IP, 'country'],
          [US_PHONE, GB_IP, 'mismatch'],
          [FR_PHONE, KR_IP, 'mismatch'],
          [GB_PHONE, KR_IP, 'mismatch'],
        ] as const;
        for (let round = 0; round < 3; round++) {
          const started = performance.now();
          const decisions = await Promise.all(outage.map(([phone, ip]) => ipm.check({ phone, ip })));
          expect(performance.now() - started).toBeLessThan(timeoutMs);
          expect(decisions.map((d) => d.matchLevel)).toEqual(outage.map(([, , level]) => level));
          expect(decisions.every((d) => d.error === undefined)).toBe(true);
        }
        const warnings = logger.lines.filter(
          (l) => (l.meta as { code?: string }).code === 'IPMATCH_STORE_UNAVAILABLE',
        );
        expect(warnings).toHaveLength(1);
        expect(logger.text()).not.toContain('7400123456');

        const restarted = await startRedisServer(server.port);
        server.stop = restarted.stop;
        const probe = new Redis(url);
        try {
          // Redis came back empty: wait (bounded) until this core's client has reconnected and stores again.
          let phone = '';
          let stored = false;
          for (let i = 0; i < 100 && !stored; i++) {
            phone = `+4474001234${String(i).padStart(2, '0')}`;
            await ipm.check({ phone, ip: GB_IP });
            await sleep(100);
            stored = (await probe.exists(prefix + (await LookupCache.key('stub', phone, null)))) === 1;
          }
          expect(stored).toBe(true);
          const calls = provider.calls;
          expect(await ipm.check({ phone, ip: GB_IP })).toMatchObject({
            cached: true,
            matchLevel: 'country',
          });
          // A second core, with no in-process copy, reads the same lookup from Redis.
          const other = await connect(kind, url);
          connections.push(other);
          const fresh = createIpMatch({ provider, logger, cache: { store: other.store({ prefix }) } });
          cores.push(fresh);
          expect(await fresh.check({ phone, ip: KR_IP })).toMatchObject({
            cached: true,
            matchLevel: 'mismatch',
          });
          expect(provider.calls).toBe(calls);
        } finally {
          probe.disconnect();
        }
      } finally {
        await server.stop();
      }
    },
  );
});

describe('RedisStore options', () => {
  const bad = (options: unknown) => {
    try {
      new RedisStore(options as RedisStoreOptions);
    } catch (err) {
      expect(err).toBeInstanceOf(IpMatchConfigError);
      return (err as Error).message;
    }
    throw new Error('expected IpMatchConfigError');
  };
  const client = { call: async () => 'OK' };

  it('says what to pass when there is no client', () => {
    const message = bad({});
    expect(message).toMatch(/client: pass a Redis client/);
    expect(message).toMatch(/new Redis\(process\.env\.REDIS_URL\)/);
    expect(message).toMatch(/createClient\(\{ url \}\)\.connect\(\)/);
    expect(message).toMatch(/sendCommand: \(\.\.\.args\) => client\.sendCommand\(args\)/);
    expect(bad(undefined)).toMatch(/client: pass a Redis client/);
  });

  it('suggests the nearest option for a typo', () => {
    expect(bad({ client, prefx: 'x:' })).toMatch(/prefx: unknown option; did you mean "prefix"\?/);
    expect(bad({ client, key_secret: KEY_SECRET })).toMatch(
      /key_secret: unknown option; did you mean "keySecret"\?/,
    );
    expect(bad({ clinet: client })).toMatch(/clinet: unknown option; did you mean "client"\?/);
  });

  it('rejects a client that is not a Redis client, or two ways to talk to Redis', () => {
    expect(bad({ client: new Map() })).toMatch(
      /client: expected an ioredis client \(new Redis\(url\)\) or a connected node-redis client/,
    );
    expect(bad({ client, sendCommand: async () => 'OK' })).toMatch(
      /sendCommand: pass client or sendCommand, not both/,
    );
    expect(bad({ sendCommand: 'GET' })).toMatch(/sendCommand: expected a function/);
    expect(bad({ client, prefix: 5 })).toMatch(/prefix: expected string, received number$/);
    expect(bad({ client, lockTtlMs: 0 })).toMatch(/lockTtlMs: .*>=1/);
  });

  it('wants a keySecret of at least 16 characters and never echoes it', () => {
    const message = bad({ client, keySecret: 'hunter2' });
    expect(message).toMatch(/keySecret: expected a secret of at least 16 characters/);
    expect(message).not.toContain('hunter2');
  });

  it('accepts an ioredis-shaped client, a node-redis-shaped client or a sendCommand function', () => {
    expect(new RedisStore({ client })).toBeInstanceOf(RedisStore);
    expect(new RedisStore({ client: { sendCommand: async () => 'OK' } })).toBeInstanceOf(RedisStore);
    expect(
      new RedisStore({ sendCommand: async () => 'OK', prefix: '', keySecret: KEY_SECRET }),
    ).toBeInstanceOf(RedisStore);
  });
});

describe('RedisStore commands', () => {
  /** A sendCommand that records what the store sends and answers like Redis. */
  function recorder(reply: (args: string[]) => unknown = () => 'OK') {
    const sent: string[][] = [];
    const sendCommand = async (...args: string[]) => {
      sent.push(args);
      return reply(args);
    };
    return { sent, sendCommand };
  }

  it('sends SET … PX, GET, DEL, and SET NX PX for a lock, under the prefix', async () => {
    const r = recorder((args) =>
      args[0] === 'GET' ? '{"country":"GB"}' : args.includes('NX') ? null : 'OK',
    );
    const store = new RedisStore({ sendCommand: r.sendCommand, prefix: 'app:' });
    await store.set('k', '{"country":"GB"}', 600_000);
    expect(await store.get('k')).toBe('{"country":"GB"}');
    expect(await store.lock('k:lock', 1234.2)).toBe(false);
    await store.unlock('k:lock');
    await store.delete('k');
    expect(r.sent).toEqual([
      ['SET', 'app:k', '{"country":"GB"}', 'PX', '600000'],
      ['GET', 'app:k'],
      ['SET', 'app:k:lock', '1', 'NX', 'PX', '1235'],
      ['DEL', 'app:k:lock'],
      ['DEL', 'app:k'],
    ]);
  });

  it('caps a lock at lockTtlMs, and reads Buffer replies', async () => {
    const r = recorder((args) => Buffer.from(args[0] === 'GET' ? 'value' : 'OK'));
    const store = new RedisStore({ sendCommand: r.sendCommand, lockTtlMs: 500 });
    expect(await store.lock('k', 2000)).toBe(true);
    expect(await store.get('k')).toBe('value');
    expect(r.sent[0]).toEqual(['SET', 'ipmatch:k', '1', 'NX', 'PX', '500']);
  });

  it('fails at once, without queueing, while an ioredis or node-redis client is reconnecting', async () => {
    let sent = 0;
    const send = async () => {
      sent++;
      return 'OK';
    };
    const io = { status: 'reconnecting', call: send };
    await expect(new RedisStore({ client: io }).get('k')).rejects.toThrow(/not connected/);
    const node = { isOpen: true, isReady: false, sendCommand: send };
    await expect(new RedisStore({ client: node }).get('k')).rejects.toThrow(/not connected/);
    expect(sent).toBe(0);
    // Once connected, commands go through.
    io.status = 'ready';
    node.isReady = true;
    await new RedisStore({ client: io }).get('k');
    await new RedisStore({ client: node }).get('k');
    expect(sent).toBe(2);
  });

  it('routes a node-redis cluster command by its key', async () => {
    const sent: unknown[][] = [];
    const cluster = {
      masters: [],
      sendCommand: async (...args: unknown[]) => {
        sent.push(args);
        return null;
      },
    };
    await new RedisStore({ client: cluster as never, prefix: 'p:' }).get('k');
    expect(sent).toEqual([['p:k', true, ['GET', 'p:k']]]);
  });
});
