/** Velocity on a user Store with `distinct`: one call per check, hashed keys, fail-open on a failing or slow store. */
import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import { IpMatchConfigError } from '../../src/core/errors.js';
import type { IpMatchOptions } from '../../src/core/options.js';
import type { DistinctOp, Store } from '../../src/core/store.js';
import type { IpMatch } from '../../src/core/types.js';
import { createIpMatch } from '../../src/create-ip-match.js';
import { recorder } from '../helpers/adapter-suite.js';

const GB_IP = '81.2.69.160';
const gb = (i: number, block = 123) => `+447400${block}${String(i).padStart(3, '0')}`;

const cores: IpMatch[] = [];
afterEach(async () => {
  await Promise.all(cores.splice(0).map((c) => c.close()));
});
function core(options: IpMatchOptions) {
  const log = recorder();
  const c = createIpMatch({ logger: log.logger, ...options });
  cores.push(c);
  return { core: c, log };
}

/** A Store that implements `distinct` by its contract in a Map, and records every call. */
function countingStore() {
  const sets = new Map<string, Map<string, number>>();
  const calls: DistinctOp[][] = [];
  let t = 0;
  const store: Store = {
    get: () => undefined,
    set: () => undefined,
    async distinct(ops) {
      calls.push([...ops]);
      t++;
      return ops.map(({ key, member, windowMs, cap }) => {
        const set = sets.get(key) ?? new Map<string, number>();
        sets.set(key, set);
        for (const [m, at] of set) if (at <= t - windowMs) set.delete(m);
        if (member !== '') {
          set.delete(member);
          set.set(member, t);
          while (set.size > cap) set.delete(set.keys().next().value!);
        }
        return set.size;
      });
    },
  };
  return { store, calls, sets };
}

describe('a Store with distinct', () => {
  test('one distinct call per check holds every counter; the counts come back on the decision', async () => {
    const { store, calls } = countingStore();
    const { core: c } = core({ velocity: { store } });
    for (let i = 0; i < 3; i++) await c.check({ phone: gb(i, 100 + i), ip: GB_IP });
    const d = await c.check({ phone: gb(3, 103), ip: GB_IP });
    expect(calls).toHaveLength(4);
    expect(calls[0]!.map((op) => [op.windowMs, op.cap])).toEqual([
      [600_000, 10],
      [600_000, 21],
      [86_400_000, 10],
      [3_600_000, 10],
    ]);
    expect([d.signals, d.velocity]).toEqual([
      ['ip_velocity'],
      { ip: 4, subnet: 4, phoneCountries: 1, prefix: 1 },
    ]);
  });

  test('cache.store is the velocity store when it has distinct', async () => {
    const { store, calls } = countingStore();
    const { core: c } = core({ cache: { store } });
    await c.check({ phone: gb(1), ip: GB_IP });
    expect(calls).toHaveLength(1);
  });

  test('a sendsOtp core adds its block sent-codes and verified counters to the same call; verified() is one call', async () => {
    const { store, calls } = countingStore();
    const { core: c } = core({ velocity: { store }, sendsOtp: true });
    await c.check({ phone: gb(1), ip: GB_IP });
    expect(calls[0]).toHaveLength(6);
    expect(calls[0]![5]!.member).toBe('');
    await c.verified(gb(1));
    expect(calls[1]).toHaveLength(1);
    expect(calls[1]![0]!.key).toBe(calls[0]![5]!.key);
  });

  test('property: no number, block or IP in clear in any key or member, and every one is the same in another core', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 999_999 }), fc.ipV4(), fc.boolean(), async (n, ip, otp) => {
        const phone = `+447400${String(n).padStart(6, '0')}`;
        const one = countingStore();
        const two = countingStore();
        const a = core({ velocity: { store: one.store }, sendsOtp: otp }).core;
        const b = core({ velocity: { store: two.store }, sendsOtp: otp }).core;
        await a.check({ phone, ip });
        await b.check({ phone, ip });
        await a.verified(phone);
        expect(one.calls[0]).toEqual(two.calls[0]);
        const digits = phone.slice(1);
        const secrets = [phone, digits, digits.slice(0, -3), ip, ip.slice(0, ip.lastIndexOf('.'))];
        for (const op of one.calls.flat()) {
          for (const text of [op.key, op.member]) {
            expect(text === '' || /^[0-9a-f]{32}$/.test(text)).toBe(true);
            for (const secret of secrets) expect(text.includes(secret)).toBe(false);
          }
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe('fail-open', () => {
  /** A store whose distinct() does what `mode` says, switchable mid-test. */
  function flakyStore() {
    const backing = countingStore();
    let mode: 'ok' | 'reject' | 'hang' | 'garbage' = 'ok';
    const store: Store = {
      get: () => undefined,
      set: () => undefined,
      distinct(ops) {
        if (mode === 'reject') return Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6379'));
        if (mode === 'hang') return new Promise<number[]>(() => undefined);
        if (mode === 'garbage') return Promise.resolve([1] as number[]);
        return backing.store.distinct!(ops);
      },
    };
    return { store, set: (m: typeof mode) => (mode = m) };
  }

  test('a failing store: velocity_unavailable, no velocity field, one warning per outage; number signals still work', async () => {
    const flaky = flakyStore();
    const { core: c, log } = core({ velocity: { store: flaky.store } });
    flaky.set('reject');
    const d = await c.check({ phone: '+449098790000', ip: GB_IP });
    expect([d.signals, 'velocity' in d]).toEqual([['premium_rate_number', 'velocity_unavailable'], false]);
    await c.check({ phone: gb(2), ip: GB_IP });
    expect(log.codes()).toEqual(['IPMATCH_VELOCITY_UNAVAILABLE']);
    expect(JSON.stringify(log.warn.mock.calls)).not.toContain('7400');
    flaky.set('ok');
    expect((await c.check({ phone: gb(3), ip: GB_IP })).velocity).toBeDefined();
    flaky.set('garbage');
    expect((await c.check({ phone: gb(4), ip: GB_IP })).signals).toEqual(['velocity_unavailable']);
    // Within 30 s of the last failure, a success between two failures does not make a new outage.
    expect(log.codes()).toEqual(['IPMATCH_VELOCITY_UNAVAILABLE']);
  });

  test('a store that hangs: the check is decided within timeoutMs, with velocity_unavailable', async () => {
    const flaky = flakyStore();
    flaky.set('hang');
    const { core: c, log } = core({ velocity: { store: flaky.store, timeoutMs: 30 } });
    const started = performance.now();
    const d = await c.check({ phone: gb(1), ip: GB_IP });
    expect(performance.now() - started).toBeLessThan(2000);
    expect([d.action, d.signals, d.velocity]).toEqual(['allow', ['velocity_unavailable'], undefined]);
    await expect(c.verified(gb(1))).resolves.toBeUndefined();
    expect(log.codes()).toEqual(['IPMATCH_VELOCITY_UNAVAILABLE']);
  });

  test('a store that throws synchronously is a failure like any other', async () => {
    const store: Store = {
      get: () => undefined,
      set: () => undefined,
      distinct() {
        throw new Error('boom');
      },
    };
    const d = await core({ velocity: { store } }).core.check({ phone: gb(1), ip: GB_IP });
    expect(d.signals).toEqual(['velocity_unavailable']);
  });
});

describe('the velocity option, validated at construction', () => {
  const problem = (velocity: unknown) => {
    try {
      createIpMatch({ velocity } as IpMatchOptions);
    } catch (err) {
      expect(err).toBeInstanceOf(IpMatchConfigError);
      return (err as Error).message;
    }
    return 'no error';
  };

  test.each([
    [{ allow: ['10.0.0.0/33'] }, /velocity\.allow\.0: .*"10\.0\.0\.0\/33" is neither/],
    [{ allow: ['1.2.3'] }, /"1\.2\.3" is neither/],
    [{ prefix: { digits: 7 } }, /velocity\.prefix\.digits: expected 1 to 6 trailing digits/],
    [{ prefix: { digits: 0 } }, /velocity\.prefix\.digits: expected 1 to 6 trailing digits/],
    [{ ip: { max: 0 } }, /velocity\.ip\.max/],
    [{ ip: { windowMs: 10 } }, /velocity\.ip\.windowMs/],
    [{ phone: { max: 2 } }, /velocity\.phone\.max: unknown option \(known: windowMs, maxCountries\)/],
    [{ store: { get() {}, set() {} } }, /velocity\.store: expected a Store with distinct/],
    [{ timeoutMs: 0 }, /velocity\.timeoutMs/],
    [true, /velocity: expected false \(off\) or an object/],
  ])('%j is refused with a message that corrects it', (velocity, message) => {
    expect(problem(velocity)).toMatch(message);
  });

  test('IPs, CIDRs and IPv4-mapped entries are accepted', () => {
    expect(
      problem({ allow: ['203.0.113.7', '2001:db8::/32', '::ffff:198.51.100.0/120', ' 10.0.0.1 '] }),
    ).toBe('no error');
  });
});
