import express from 'express';
import {
  createIpMatch,
  type IpMatch,
  type IpMatchDecision,
  type IpMatchOptions,
  vonageProvider,
} from 'ipmatch';
import { ipMatch, type RouteOptions } from 'ipmatch/express';
import { type FakeVonage, startFakeVonage } from 'ipmatch/testing';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../helpers/logger.js';

/** The Vonage path end to end: the real core and the real undici client against a real fake server. */
const SECRET = 'sup3r-s3cret-value';
const GB_PHONE = '+447400123456';
const GB_IP = '81.2.69.160';
const KR_IP = '211.234.0.1';
const ES_IP = '88.26.0.1';

let fake: FakeVonage;
/** Upstream calls since the current test began (the fake's own count runs for the whole suite). */
let callsAtStart = 0;
const calls = () => fake.calls - callsAtStart;
const logger = memoryLogger();
const decisions: IpMatchDecision[] = [];
const errors: unknown[] = [];
const cores: IpMatch[] = [];

function core(options: IpMatchOptions = {}, provider: Partial<Parameters<typeof vonageProvider>[0]> = {}) {
  const c = createIpMatch({
    provider: vonageProvider({ apiKey: 'key', apiSecret: SECRET, baseUrl: fake.url, ...provider }),
    logger,
    onDecision: (d) => decisions.push(d),
    // These tests are about the error each failure becomes; test/e2e/remote-down.test.ts covers the offline default.
    remoteDown: 'error',
    ...options,
  });
  cores.push(c);
  return c;
}

beforeAll(async () => {
  fake = await startFakeVonage({ apiKey: 'key', apiSecret: SECRET });
});
beforeEach(() => {
  callsAtStart = fake.calls;
});
afterEach(async () => {
  await Promise.all(cores.splice(0).map((c) => c.close()));
  fake.reset();
});
afterAll(async () => {
  await fake.close();
  // Nothing that crossed the suite may carry the secret, the Basic header or a full phone number in a log.
  const basic = Buffer.from(`key:${SECRET}`).toString('base64');
  const seen = [JSON.stringify(decisions), logger.text(), errors.map(String).join('\n')].join('\n');
  expect(decisions.length).toBeGreaterThan(50);
  expect(seen).not.toContain(SECRET);
  expect(seen).not.toContain(basic);
  expect(seen.toLowerCase()).not.toContain('authorization');
  expect(logger.text()).not.toContain('447400123456');
  for (const r of fake.requests) expect(JSON.stringify(r)).not.toContain(SECRET);
});

describe('vonageProvider through the core', () => {
  it('takes the phone country from Vonage and the IP country from local data', async () => {
    const d = await core().check({ phone: GB_PHONE, ip: KR_IP });
    expect(d).toMatchObject({
      action: 'block',
      matchLevel: 'mismatch',
      reason: 'country_mismatch',
      provider: 'vonage',
      cached: false,
      ip: { address: KR_IP, country: 'KR' },
      phone: { number: GB_PHONE, country: 'GB', roamingCountry: null, valid: true },
      cost: { currency: 'EUR' },
    });
    expect(fake.requests[0]).toMatchObject({ level: 'advanced', authorized: true, auth: 'header' });
    expect(fake.requests[0]?.query).toEqual({ number: '447400123456' });
  });

  it.each([
    ['an object', { status: 'roaming', roaming_country_code: 'ES' }, 'country', 'roaming_match', 'ES'],
    ['"unknown"', 'unknown', 'mismatch', 'country_mismatch', null],
    ['{ status: "unknown" }', { status: 'unknown' }, 'mismatch', 'country_mismatch', null],
  ] as const)('reads roaming given as %s', async (_what, roaming, matchLevel, reason, roamingCountry) => {
    fake.set({ roaming: roaming as never });
    const d = await core().check({ phone: GB_PHONE, ip: ES_IP });
    expect(d).toMatchObject({ matchLevel, reason, phone: { country: 'GB', roamingCountry } });
  });

  it('honours a legacy ip object with sendIp, in both vocabularies', async () => {
    fake.set({ ip: { ip_match_level: 'Country Level', ip_country: 'GB' } });
    const d = await core({}, { sendIp: true }).check({ phone: GB_PHONE, ip: KR_IP });
    expect(d).toMatchObject({ matchLevel: 'country', reason: 'country_match', ip: { country: 'GB' } });
    expect(fake.requests.at(-1)?.query).toMatchObject({ ip: KR_IP });
    fake.set({ ip: { ip_match_level: 'mismatch', ip_country: 'KR' } });
    const d2 = await core({}, { sendIp: true }).check({ phone: GB_PHONE, ip: GB_IP });
    expect(d2).toMatchObject({ matchLevel: 'mismatch', ip: { country: 'KR' } });
  });

  it.each([
    [{ status: 1 }, 'lookup_failed', 'throttled'],
    [{ status: 3 }, 'lookup_failed', 'invalid_request'],
    [{ status: 4 }, 'lookup_failed', 'invalid_credentials'],
    [{ status: 5 }, 'lookup_failed', 'upstream_error'],
    [{ status: 9 }, 'lookup_failed', 'quota_exceeded'],
    [{ status: 19 }, 'lookup_failed', 'not_allowed'],
    [{ status: 999 }, 'lookup_failed', 'invalid_request'],
    [{ httpStatus: 502 }, 'lookup_failed', 'http_502'],
    [{ httpStatus: 429 }, 'lookup_failed', 'throttled'],
    [{ body: 'not json at all' }, 'lookup_failed', 'invalid_response'],
    [{ truncate: true }, 'lookup_failed', 'invalid_response'],
    [{ drop: true }, 'lookup_failed', 'network_error'],
    [{ hang: true }, 'lookup_timeout', 'timeout'],
  ] as const)('turns %o into a decision (%s / %s), failing open by default', async (fault, reason, code) => {
    fake.set(fault);
    const d = await core({ timeoutMs: 300 }).check({ phone: GB_PHONE, ip: KR_IP });
    expect(d).toMatchObject({
      action: 'allow',
      policyAction: 'allow',
      matchLevel: 'unknown',
      reason,
      error: { code },
      ip: { country: 'KR' },
      phone: { number: GB_PHONE, country: 'GB' },
    });
  });

  it('uses the partial data of statuses 43, 44 and 45', async () => {
    for (const status of [43, 44, 45]) {
      fake.set({ status });
      const d = await core().check({ phone: GB_PHONE, ip: KR_IP });
      expect(d).toMatchObject({ reason: 'country_mismatch', phone: { country: 'GB' } });
      expect(d.error).toBeUndefined();
    }
  });

  it('fails closed when the error policy says block', async () => {
    fake.set({ status: 5 });
    const d = await core({ policy: { error: 'block' } }).check({ phone: GB_PHONE, ip: GB_IP });
    expect(d).toMatchObject({ action: 'block', reason: 'lookup_failed', error: { code: 'upstream_error' } });
  });

  it('makes one upstream call for 100 concurrent checks of one number, and a repeat hits the cache', async () => {
    fake.set({ latencyMs: 50 });
    const ipm = core();
    const all = await Promise.all(
      Array.from({ length: 100 }, () => ipm.check({ phone: GB_PHONE, ip: GB_IP })),
    );
    expect(calls()).toBe(1);
    expect(all.filter((d) => !d.cached)).toHaveLength(1);
    expect(all.every((d) => d.reason === 'country_match')).toBe(true);
    const again = await ipm.check({ phone: GB_PHONE, ip: KR_IP });
    expect(again).toMatchObject({ cached: true, reason: 'country_mismatch' });
    expect(again.cost).toBeUndefined();
    expect(calls()).toBe(1);
  });

  it('keeps levels apart in a shared cache: a Basic answer never stands in for an Advanced one', async () => {
    const entries = new Map<string, string>();
    const store = {
      get: (k: string) => entries.get(k),
      set: (k: string, v: string) => void entries.set(k, v),
    };
    const basic = core({ cache: { store } }, { level: 'basic' });
    const advanced = core({ cache: { store } });
    expect((await basic.check({ phone: GB_PHONE, ip: GB_IP })).cached).toBe(false);
    expect((await advanced.check({ phone: GB_PHONE, ip: GB_IP })).cached).toBe(false);
    expect((await advanced.check({ phone: GB_PHONE, ip: KR_IP })).cached).toBe(true);
    expect(calls()).toBe(2);
    expect(entries.size).toBe(2);
  });

  it('cuts a hung upstream at the budget', async () => {
    fake.set({ hang: true });
    const ipm = core({ timeoutMs: 250 });
    const started = performance.now();
    const d = await ipm.check({ phone: GB_PHONE, ip: GB_IP });
    const took = performance.now() - started;
    expect(d.reason).toBe('lookup_timeout');
    expect(took).toBeGreaterThanOrEqual(240);
    expect(took).toBeLessThan(250 + 150);
  });

  it('reuses at most 2 sockets for sequential lookups', async () => {
    const before = fake.connections;
    // 20 new numbers from one IP would spend the default per-IP lookup budget (10 a minute).
    const ipm = core({}, { maxLookupsPerMinutePerIp: false });
    for (let i = 0; i < 20; i++)
      await ipm.check({ phone: `+4474001234${String(i).padStart(2, '0')}`, ip: GB_IP });
    expect(calls()).toBe(20);
    expect(fake.connections - before).toBeLessThanOrEqual(2);
  });

  it('opens the breaker after 5 failures and closes it after a good probe', async () => {
    fake.set({ httpStatus: 503 });
    const ipm = core({}, { breaker: { failures: 5, cooldownMs: 200 } });
    const phone = (i: number) => `+4474001235${String(i).padStart(2, '0')}`;
    for (let i = 0; i < 5; i++)
      expect((await ipm.check({ phone: phone(i), ip: GB_IP })).error?.code).toBe('http_503');
    const before = calls();
    const open = await ipm.check({ phone: phone(10), ip: GB_IP });
    expect(open).toMatchObject({ reason: 'lookup_failed', error: { code: 'circuit_open' } });
    expect(calls()).toBe(before);
    fake.set({ httpStatus: undefined });
    await new Promise((r) => setTimeout(r, 250));
    expect((await ipm.check({ phone: phone(11), ip: GB_IP })).reason).toBe('country_match');
    expect((await ipm.check({ phone: phone(12), ip: GB_IP })).reason).toBe('country_match');
    const codes = logger.lines.map((l) => (l.meta as { code?: string } | undefined)?.code);
    expect(codes).toContain('IPMATCH_CIRCUIT_OPEN');
    expect(codes).toContain('IPMATCH_CIRCUIT_CLOSED');
  });

  it('never looks up a private IP or an invalid phone', async () => {
    const ipm = core();
    expect((await ipm.check({ phone: GB_PHONE, ip: '10.0.0.8' })).reason).toBe('ip_not_public');
    expect((await ipm.check({ phone: 'not a phone', ip: GB_IP })).reason).toBe('phone_invalid');
    expect(calls()).toBe(0);
  });
});

describe('vonageProvider through Express', () => {
  function app(options: RouteOptions = {}) {
    const a = express();
    a.set('trust proxy', 'loopback');
    a.use(express.json());
    const provider = vonageProvider({ apiKey: 'key', apiSecret: SECRET, baseUrl: fake.url });
    const c = createIpMatch({
      provider,
      logger,
      onDecision: (d) => decisions.push(d),
      timeoutMs: 300,
      remoteDown: 'error',
    });
    cores.push(c);
    a.post('/signup', ipMatch(c, options), (req, res) => {
      res.json(req.ipMatch);
    });
    a.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      errors.push(err);
      res.status(500).json({ error: 'server' });
    });
    return a;
  }
  const post = (a: express.Express, ip: string, phone: unknown = GB_PHONE) =>
    request(a).post('/signup').set('x-forwarded-for', ip).send({ phone });

  it('blocks a mismatch with 403 and lets a roaming match through', async () => {
    const a = app();
    const blocked = await post(a, KR_IP);
    expect(blocked.status).toBe(403);
    expect(blocked.body).toMatchObject({ error: 'ip_phone_mismatch', matchLevel: 'mismatch' });
    fake.answer('+447400123457', { roaming: { status: 'roaming', roaming_country_code: 'ES' } });
    const roaming = await post(a, ES_IP, '+447400123457');
    expect(roaming.status).toBe(200);
    expect(roaming.body).toMatchObject({ reason: 'roaming_match', phone: { roamingCountry: 'ES' } });
    expect(calls()).toBe(2);
  });

  it('answers 403 ip_match_unavailable when failing closed, and 200 when failing open', async () => {
    fake.set({ hang: true });
    const closed = await post(app({ policy: { error: 'block' } }), GB_IP);
    expect(closed.status).toBe(403);
    expect(closed.body).toMatchObject({ error: 'ip_match_unavailable', reason: 'lookup_timeout' });
    const open = await post(app(), GB_IP, '+447400123499');
    expect(open.status).toBe(200);
    expect(open.body).toMatchObject({ reason: 'lookup_timeout', error: { code: 'timeout' } });
  });

  it('answers 400 for an invalid phone without a lookup', async () => {
    const res = await post(app(), GB_IP, 'call me');
    expect(res.status).toBe(400);
    expect(calls()).toBe(0);
  });
});
