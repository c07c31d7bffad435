/**
 * Legitimate traffic raises no velocity signal: 10,000 signups with distinct numbers from distinct public IPs,
 * within one window, through one core's real velocity code (most by check(), a sample through a real Express app
 * on an OTP route, where prefix_burst blocks).
 */
import express from 'express';
import request from 'supertest';
import { afterAll, expect, test } from 'vitest';
import { ipMatch } from '../../src/adapters/express.js';
import { normalizeIp } from '../../src/core/ip.js';
import type { IpMatchDecision } from '../../src/core/types.js';
import { createIpMatch } from '../../src/create-ip-match.js';

const VELOCITY = new Set([
  'ip_velocity',
  'subnet_velocity',
  'phone_velocity',
  'prefix_burst',
  'low_conversion_prefix',
  'velocity_unavailable',
]);

/** mulberry32: the same "random" signups on every run, so that a failure can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 10,000 distinct UK mobile numbers (+447…) and 10,000 distinct public IPv4 addresses, spread as people are. */
function signups(count: number) {
  const random = prng(20261206);
  const numbers = new Set<string>();
  const ips = new Set<string>();
  while (numbers.size < count) numbers.add(`+447${String(Math.floor(random() * 1e9)).padStart(9, '0')}`);
  while (ips.size < count) {
    const ip = Array.from({ length: 4 }, () => Math.floor(random() * 256)).join('.');
    if (normalizeIp(ip).public) ips.add(ip);
  }
  const ipList = [...ips];
  return [...numbers].map((phone, i) => ({ phone, ip: ipList[i]! }));
}

const core = createIpMatch({ logger: { warn() {}, error() {} } });
afterAll(() => core.close());

test('10,000 legitimate signups within one window raise no velocity signal', async () => {
  const all = signups(10_000);
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(express.json());
  app.post('/otp', ipMatch(core, { sendsOtp: true }), (req, res) => res.json(req.ipMatch));
  const seen: IpMatchDecision[] = [];
  for (let i = 0; i < all.length; i++) {
    const { phone, ip } = all[i]!;
    if (i % 50 === 0) {
      const res = await request(app).post('/otp').set('X-Forwarded-For', ip).send({ phone });
      // A mismatch (a random IP abroad) may be refused, but never for velocity.
      if (res.status === 403) expect(VELOCITY.has(res.body.error)).toBe(false);
      else seen.push(res.body as IpMatchDecision);
    } else {
      seen.push(await core.check({ phone, ip }));
    }
  }
  expect(seen.length).toBeGreaterThan(9_000);
  const fired = seen.flatMap((d) => d.signals.filter((s) => VELOCITY.has(s)));
  expect(fired).toEqual([]);
  // Every one was counted, by the real counters: one number per IP, one country per number.
  for (const d of seen) {
    expect(d.velocity).toMatchObject({ ip: 1, phoneCountries: d.ip.country === null ? 0 : 1 });
    expect(d.velocity!.prefix).toBeLessThanOrEqual(4);
  }
});
