/** The velocity signals through a real core on an injected clock: thresholds, window edges, IPv6, allow, sendsOtp. */
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import { ipMatch } from '../../src/adapters/express.js';
import { internals } from '../../src/core/internal.js';
import { createCore } from '../../src/core/ipmatch.js';
import type { IpMatchOptions } from '../../src/core/options.js';
import type { IpMatch } from '../../src/core/types.js';
import { CORE_DEFAULTS } from '../../src/create-ip-match.js';
import { recorder } from '../helpers/adapter-suite.js';

const GB_IP = '81.2.69.160';
const GB_IP_SAME_24 = '81.2.69.1';
const KR_IP = '211.234.0.1';
const US_IP = '8.8.8.8';
const IE_IP = '31.13.64.1';
/** Distinct UK mobiles, all in one block (+447400123…) unless `block` says otherwise. */
const gb = (i: number, block = 123) => `+447400${block}${String(i).padStart(3, '0')}`;

const cores: IpMatch[] = [];
afterEach(async () => {
  await Promise.all(cores.splice(0).map((c) => c.close()));
});

/** A core on a clock the test moves by hand. */
function clocked(options: IpMatchOptions = {}) {
  let t = 1_700_000_000_000;
  const log = recorder();
  const core = createCore({ logger: log.logger, ...options }, { ...CORE_DEFAULTS, now: () => t });
  cores.push(core);
  return { core, log, advance: (ms: number) => (t += ms) };
}

/** Only the counters named stay on, so that each test sees one signal alone. */
const only = (name: 'ip' | 'subnet' | 'phone' | 'prefix', extra: object = {}): IpMatchOptions => ({
  velocity: { ip: false, subnet: false, phone: false, prefix: false, [name]: {}, ...extra },
});

describe('ip_velocity: distinct numbers from one IP', () => {
  test('fires on the 4th distinct number (more than 3), not on the 3rd; a repeat number does not count', async () => {
    const { core } = clocked(only('ip'));
    for (let i = 0; i < 3; i++) {
      const d = await core.check({ phone: gb(i, 100 + i), ip: GB_IP });
      expect([d.signals, d.velocity?.ip]).toEqual([[], i + 1]);
    }
    expect((await core.check({ phone: gb(0, 100), ip: GB_IP })).velocity?.ip).toBe(3);
    const fourth = await core.check({ phone: gb(3, 103), ip: GB_IP });
    expect([fourth.signals, fourth.velocity?.ip, fourth.action]).toEqual([['ip_velocity'], 4, 'flag']);
  });

  test('window edges: a number seen 10 minutes ago is forgotten, one seen a millisecond later still counts', async () => {
    const { core, advance } = clocked(only('ip'));
    await core.check({ phone: gb(0, 100), ip: GB_IP });
    advance(1);
    await core.check({ phone: gb(1, 101), ip: GB_IP });
    advance(600_000 - 1); // the first is now exactly 10 minutes old
    expect((await core.check({ phone: gb(2, 102), ip: GB_IP })).velocity?.ip).toBe(2);
    advance(1); // and the second too
    expect((await core.check({ phone: gb(3, 103), ip: GB_IP })).velocity?.ip).toBe(2);
  });

  test('a tuned threshold and window', async () => {
    const { core, advance } = clocked(only('ip', { ip: { max: 1, windowMs: 60_000 } }));
    expect((await core.check({ phone: gb(0, 100), ip: GB_IP })).signals).toEqual([]);
    expect((await core.check({ phone: gb(1, 101), ip: GB_IP })).signals).toEqual(['ip_velocity']);
    advance(60_000);
    expect((await core.check({ phone: gb(2, 102), ip: GB_IP })).signals).toEqual([]);
  });

  test('the count is trimmed at its cap (2 × max + 1, at least 10) and stays there', async () => {
    const { core } = clocked(only('ip'));
    const counts: number[] = [];
    for (let i = 0; i < 15; i++)
      counts.push((await core.check({ phone: gb(i, 100 + i), ip: GB_IP })).velocity!.ip);
    expect(counts).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10, 10, 10]);
  });

  test('IPv6 counts per /64: two addresses of one /64 share a count, another /64 does not', async () => {
    const { core } = clocked(only('ip'));
    await core.check({ phone: gb(0, 100), ip: '2a02:c7c:1:2::1' });
    expect((await core.check({ phone: gb(1, 101), ip: '2a02:c7c:1:2:ffff::9' })).velocity?.ip).toBe(2);
    expect((await core.check({ phone: gb(2, 102), ip: '2a02:c7c:1:3::1' })).velocity?.ip).toBe(1);
  });
});

describe('subnet_velocity: distinct numbers from one /24 or /48', () => {
  test('fires on the 11th distinct number from one IPv4 /24, across its addresses', async () => {
    const { core } = clocked(only('subnet'));
    for (let i = 0; i < 10; i++) {
      const d = await core.check({ phone: gb(i, 100 + i), ip: `81.2.69.${10 + i}` });
      expect(d.signals).toEqual([]);
    }
    const d = await core.check({ phone: gb(10, 110), ip: GB_IP_SAME_24 });
    expect([d.signals, d.velocity?.subnet]).toEqual([['subnet_velocity'], 11]);
    expect((await core.check({ phone: gb(11, 111), ip: '81.2.70.1' })).velocity?.subnet).toBe(1);
  });

  test('IPv6 counts per /48', async () => {
    const { core } = clocked(only('subnet'));
    await core.check({ phone: gb(0, 100), ip: '2a02:c7c:1:2::1' });
    expect((await core.check({ phone: gb(1, 101), ip: '2a02:c7c:1:9::1' })).velocity?.subnet).toBe(2);
    expect((await core.check({ phone: gb(2, 102), ip: '2a02:c7c:2::1' })).velocity?.subnet).toBe(1);
  });
});

describe('phone_velocity: IP countries of one number', () => {
  test('fires at the 3rd country (more than 2); an IP of unknown country does not count', async () => {
    const { core } = clocked(only('phone'));
    const phone = gb(1);
    expect((await core.check({ phone, ip: GB_IP })).velocity?.phoneCountries).toBe(1);
    expect((await core.check({ phone, ip: GB_IP_SAME_24 })).velocity?.phoneCountries).toBe(1);
    expect((await core.check({ phone, ip: '10.0.0.1' })).velocity?.phoneCountries).toBe(1);
    const two = await core.check({ phone, ip: KR_IP });
    expect([two.signals, two.velocity?.phoneCountries]).toEqual([[], 2]);
    const three = await core.check({ phone, ip: US_IP });
    expect([three.signals, three.velocity?.phoneCountries]).toEqual([['phone_velocity'], 3]);
  });

  test('24 hours later the countries are forgotten', async () => {
    const { core, advance } = clocked(only('phone'));
    const phone = gb(1);
    for (const ip of [GB_IP, KR_IP, US_IP]) await core.check({ phone, ip });
    advance(86_400_000);
    expect((await core.check({ phone, ip: IE_IP })).velocity?.phoneCountries).toBe(1);
  });
});

describe('prefix_burst: distinct numbers in one block', () => {
  test('fires on the 5th number of a block (more than 4), whatever IPs they come from', async () => {
    const { core } = clocked(only('prefix'));
    const ips = [GB_IP, KR_IP, US_IP, '86.1.2.3', '10.0.0.1'];
    for (let i = 0; i < 4; i++) expect((await core.check({ phone: gb(i), ip: ips[i]! })).signals).toEqual([]);
    const d = await core.check({ phone: gb(4), ip: ips[4]! });
    expect([d.signals, d.velocity?.prefix]).toEqual([['prefix_burst'], 5]);
    // Another block of 1,000 numbers has its own count.
    expect((await core.check({ phone: gb(4, 124), ip: GB_IP })).velocity?.prefix).toBe(1);
  });

  test('digits sets the block: 2 makes blocks of 100', async () => {
    const { core } = clocked(only('prefix', { prefix: { digits: 2 } }));
    await core.check({ phone: '+447400123400', ip: GB_IP });
    expect((await core.check({ phone: '+447400123499', ip: GB_IP })).velocity?.prefix).toBe(2);
    expect((await core.check({ phone: '+447400123500', ip: GB_IP })).velocity?.prefix).toBe(1);
  });

  test('an hour later the block starts again', async () => {
    const { core, advance } = clocked(only('prefix'));
    for (let i = 0; i < 4; i++) await core.check({ phone: gb(i), ip: GB_IP });
    advance(3_600_000);
    expect((await core.check({ phone: gb(5), ip: GB_IP })).velocity?.prefix).toBe(1);
  });
});

describe('what counts', () => {
  test('an IP in allow (or in an allowed CIDR) is not counted per IP or subnet; its number and block are', async () => {
    const { core } = clocked({ velocity: { allow: ['81.2.69.0/24', '2a02:c7c::/32'] } });
    for (let i = 0; i < 6; i++) {
      const d = await core.check({ phone: gb(i, 100 + i), ip: GB_IP });
      expect(d.signals).toEqual([]);
      expect(d.velocity).toEqual({ ip: 0, subnet: 0, phoneCountries: 1, prefix: 1 });
    }
    expect((await core.check({ phone: gb(0), ip: '2a02:c7c:1::1' })).velocity?.ip).toBe(0);
    expect((await core.check({ phone: gb(0), ip: '81.2.70.1' })).velocity?.ip).toBe(1);
  });

  test('a private IP is not counted per IP or subnet', async () => {
    const { core } = clocked();
    for (let i = 0; i < 5; i++) await core.check({ phone: gb(i, 100 + i), ip: '10.0.0.1' });
    const d = await core.check({ phone: gb(9, 109), ip: '10.0.0.1' });
    expect([d.signals, d.velocity]).toEqual([[], { ip: 0, subnet: 0, phoneCountries: 0, prefix: 1 }]);
  });

  test('blocked checks count too, and the count includes the request being decided', async () => {
    const { core } = clocked(only('ip', { ip: { max: 1 } }));
    // Each is a mismatch (GB numbers from a KR IP): blocked, and counted all the same.
    expect((await core.check({ phone: gb(0, 100), ip: KR_IP })).action).toBe('block');
    const d = await core.check({ phone: gb(1, 101), ip: KR_IP });
    expect([d.action, d.signals, d.velocity?.ip]).toEqual(['block', ['ip_velocity'], 2]);
  });

  test('an input that is no phone number counts nothing and carries no velocity', async () => {
    const { core } = clocked();
    const d = await core.check({ phone: 'not a phone', ip: GB_IP });
    expect([d.reason, d.velocity, d.signals]).toEqual(['phone_invalid', undefined, []]);
  });

  test('velocity: false leaves the signals and the decision field out', async () => {
    const { core } = clocked({ velocity: false });
    for (let i = 0; i < 6; i++) {
      const d = await core.check({ phone: gb(i, 100 + i), ip: GB_IP });
      expect([d.signals, 'velocity' in d]).toEqual([[], false]);
    }
  });

  test('a policy function sees the counts', async () => {
    const { core } = clocked({ policy: (r) => ((r.velocity?.ip ?? 0) >= 2 ? 'block' : 'allow') });
    expect((await core.check({ phone: gb(0, 100), ip: GB_IP })).action).toBe('allow');
    expect((await core.check({ phone: gb(1, 101), ip: GB_IP })).action).toBe('block');
  });
});

describe('sendsOtp and the conversion hook', () => {
  test('a sendsOtp route blocks prefix_burst with a 403 that names it; a plain route only flags it', async () => {
    const core = clocked().core;
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(express.json());
    app.post('/otp', ipMatch(core, { sendsOtp: true }), (_q, res) => res.json({ ok: true }));
    app.post('/signup', ipMatch(core), (req, res) => res.json(req.ipMatch));
    const send = (path: string, i: number) =>
      request(app)
        .post(path)
        .set('X-Forwarded-For', `81.2.69.${10 + i}`)
        .send({ phone: gb(i) });
    for (let i = 0; i < 4; i++) expect((await send('/otp', i)).status).toBe(200);
    const fifth = await send('/otp', 4);
    expect([fifth.status, fifth.body.error]).toEqual([403, 'prefix_burst']);
    expect(fifth.body.message).toMatch(/numbers like this one/);
    const plain = await send('/signup', 5);
    expect([plain.status, plain.body.action, plain.body.signals]).toEqual([200, 'flag', ['prefix_burst']]);
  });

  test('low_conversion_prefix: 20 numbers of a block sent a code and 3 verified fires; 4 verified does not', async () => {
    // Thresholds of the other counters out of the way: 20 numbers of one block are a burst anyway.
    const velocity = { prefix: { max: 1000 }, ip: false, subnet: false } as const;
    const run = async (verifiedCount: number) => {
      const { core } = clocked({ sendsOtp: true, velocity });
      let last: string[] = [];
      for (let i = 0; i < 20; i++) {
        if (i < verifiedCount) {
          await core.check({ phone: gb(i), ip: GB_IP });
          await core.verified(gb(i));
        }
      }
      for (let i = verifiedCount; i < 20; i++) last = (await core.check({ phone: gb(i), ip: GB_IP })).signals;
      return last;
    };
    expect(await run(3)).toEqual(['low_conversion_prefix']);
    expect(await run(4)).toEqual([]);
  });

  test('below 20 numbers sent, no conversion is judged; a route without sendsOtp counts no code sent', async () => {
    const velocity = { prefix: { max: 1000 }, ip: false, subnet: false } as const;
    const otp = clocked({ sendsOtp: true, velocity }).core;
    for (let i = 0; i < 19; i++) expect((await otp.check({ phone: gb(i), ip: GB_IP })).signals).toEqual([]);
    const plain = clocked({ velocity }).core;
    for (let i = 0; i < 25; i++) expect((await plain.check({ phone: gb(i), ip: GB_IP })).signals).toEqual([]);
  });

  test('verified() never rejects, whatever it is given', async () => {
    const { core } = clocked();
    for (const bad of ['', 'not a phone', '+1', null, 42, '+44 7400 123456']) {
      await expect(core.verified(bad as string)).resolves.toBeUndefined();
    }
  });
});

describe('the offline check stays synchronous', () => {
  test('with velocity in memory, a route check returns its decision without a promise', async () => {
    const { core } = clocked();
    await core.ready();
    const inside = internals(core)!;
    const route = inside.compileRoute({ signals: { readsIpHeader: false, sendsOtp: true } });
    for (let i = 0; i < 6; i++) {
      const checked = inside.check({ phone: gb(i, 100 + i), ip: GB_IP }, route);
      expect(checked).not.toBeInstanceOf(Promise);
      if (!(checked instanceof Promise)) expect(checked.decision.velocity?.ip).toBe(i + 1);
    }
  });
});

describe('warnings', () => {
  test('in memory under NODE_ENV=production, one warning that counts are per process', () => {
    const before = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const { log } = clocked();
      expect(log.codes()).toEqual(['IPMATCH_VELOCITY_IN_MEMORY']);
      expect(clocked({ velocity: false }).log.codes()).toEqual([]);
    } finally {
      process.env.NODE_ENV = before;
    }
  });

  test('outside production, no warning', () => {
    expect(clocked().log.codes()).toEqual([]);
  });
});
