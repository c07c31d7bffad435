import express from 'express';
import { createIpMatch, IpMatchConfigError, type IpMatchOptions } from 'ipmatch';
import { ipMatch, type RouteOptions } from 'ipmatch/express';
import request from 'supertest';
import { describe, expect, test } from 'vitest';
import { SIGNALS } from '../../src/core/signals.js';
import { GB_IP, GB_PHONE, recorder, US_IP, US_PHONE } from '../helpers/adapter-suite.js';

const core = (options: IpMatchOptions = {}) => createIpMatch({ logger: recorder().logger, ...options });
const NON_GEOGRAPHIC = '+88216500000000';

/** A signup route on Express, the client IP from X-Forwarded-For through a loopback proxy. */
function signupApp(route: RouteOptions, options: IpMatchOptions = {}) {
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(express.json());
  app.post('/signup', ipMatch(core(options), route), (req, res) => {
    res.json({ decision: req.ipMatch });
  });
  return (phone: string, ip = GB_IP) =>
    request(app).post('/signup').set('X-Forwarded-For', ip).send({ phone });
}

describe('phoneCountries on a real Express route', () => {
  test('a number outside allow is a 403 country_not_allowed, even when the IP matches it', async () => {
    const signup = signupApp({ phoneCountries: { allow: ['IE', 'FR'] } });
    const res = await signup(GB_PHONE);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      error: 'country_not_allowed',
      message: SIGNALS.country_not_allowed.message,
      matchLevel: 'country',
      reason: 'country_match',
    });
  });

  test('a number inside allow passes, in any case the codes were written', async () => {
    const signup = signupApp({ phoneCountries: { allow: ['gb', 'US'] } });
    expect((await signup(GB_PHONE)).body.decision).toMatchObject({ action: 'allow', signals: [] });
    expect((await signup(US_PHONE, US_IP)).body.decision).toMatchObject({ action: 'allow', signals: [] });
  });

  test('a number inside deny is refused, one outside passes', async () => {
    const signup = signupApp({ phoneCountries: { deny: ['GB'] } });
    expect([(await signup(GB_PHONE)).status, (await signup(GB_PHONE)).body.error]).toEqual([
      403,
      'country_not_allowed',
    ]);
    expect((await signup(US_PHONE, US_IP)).body.decision.signals).toEqual([]);
  });

  test('a number of unknown country: refused under allow, fine under deny', async () => {
    const lenient = { mismatch: 'allow', unknown: 'allow' } as const;
    const allow = signupApp({ phoneCountries: { allow: ['GB'] }, policy: lenient });
    const deny = signupApp({ phoneCountries: { deny: ['GB'] }, policy: lenient });
    expect((await allow(NON_GEOGRAPHIC)).body.error).toBe('country_not_allowed');
    expect((await deny(NON_GEOGRAPHIC)).body.decision.signals).toEqual(['voip_number']);
  });

  test('allow and deny together: inside allow and not in deny', async () => {
    const signup = signupApp({ phoneCountries: { allow: ['GB', 'US'], deny: ['US'] } });
    expect((await signup(GB_PHONE)).status).toBe(200);
    expect((await signup(US_PHONE, US_IP)).body.error).toBe('country_not_allowed');
  });

  test("the route's policy map can lower it; observe mode flags it", async () => {
    const flagged = signupApp({ phoneCountries: { deny: ['GB'] }, policy: { country_not_allowed: 'flag' } });
    expect((await flagged(GB_PHONE)).body.decision).toMatchObject({
      action: 'flag',
      signals: ['country_not_allowed'],
    });
    const observed = signupApp({ phoneCountries: { deny: ['GB'] }, mode: 'observe' });
    expect((await observed(GB_PHONE)).body.decision).toMatchObject({ action: 'flag', policyAction: 'block' });
  });

  test('an input that is no phone number gets no country signal: it is phone_invalid', async () => {
    const signup = signupApp({ phoneCountries: { allow: ['GB'] }, onInvalidPhone: 'skip' });
    expect((await signup('hello')).body.decision).toMatchObject({ reason: 'phone_invalid', signals: [] });
  });
});

describe('phoneCountries on the core', () => {
  test('applies to check() and every route; a route list replaces it', async () => {
    const shared = core({ phoneCountries: { allow: ['US'] } });
    expect((await shared.check({ phone: GB_PHONE, ip: GB_IP })).signals).toEqual(['country_not_allowed']);
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(express.json());
    app.post('/a', ipMatch(shared), (req, res) => res.json(req.ipMatch));
    app.post('/b', ipMatch(shared, { phoneCountries: { allow: ['GB'] } }), (req, res) =>
      res.json(req.ipMatch),
    );
    const post = (path: string) =>
      request(app).post(path).set('X-Forwarded-For', GB_IP).send({ phone: GB_PHONE });
    expect((await post('/a')).body.error).toBe('country_not_allowed');
    expect((await post('/b')).body.action).toBe('allow');
  });

  test('ipMatch(options) builds its own core with the lists and sendsOtp', async () => {
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(express.json());
    const logger = recorder().logger;
    app.post('/otp', ipMatch({ logger, sendsOtp: true, phoneCountries: { deny: ['US'] } }), (req, res) =>
      res.json(req.ipMatch),
    );
    const post = (phone: string, ip: string) =>
      request(app).post('/otp').set('X-Forwarded-For', ip).send({ phone });
    expect((await post(US_PHONE, US_IP)).body.error).toBe('country_not_allowed');
    expect((await post('+449098790000', GB_IP)).body.error).toBe('premium_rate_number');
    expect((await post(GB_PHONE, GB_IP)).body.action).toBe('allow');
  });

  test('without any list nothing is refused: there is no built-in risk list', async () => {
    const d = await core().check({ phone: '+3584012345678', ip: GB_IP });
    expect(d.signals).not.toContain('country_not_allowed');
  });
});

describe('phoneCountries: codes that are not ISO 3166-1 alpha-2 are config errors', () => {
  const problems = (fn: () => unknown): string[] => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(IpMatchConfigError);
      return [...(err as IpMatchConfigError).problems];
    }
    throw new Error('expected an IpMatchConfigError');
  };

  test.each([
    ['UK', 'GB'],
    ['uk', 'GB'],
    ['EL', 'GR'],
    ['GBR', 'GB'],
    ['USA', 'US'],
  ])('%s: did you mean %s', (code, hint) => {
    const [problem] = problems(() => core({ phoneCountries: { allow: [code] } }));
    expect(problem).toContain('phoneCountries.allow');
    expect(problem).toContain(`did you mean "${hint}"?`);
  });

  test('an unknown two-letter code, a number, an empty allow, an empty object', () => {
    expect(problems(() => core({ phoneCountries: { deny: ['GB', 'XX'] } }))[0]).toMatch(
      /phoneCountries\.deny\.1: expected an ISO 3166-1 alpha-2 code such as "GB" or "US", got "XX"/,
    );
    expect(problems(() => core({ phoneCountries: { deny: [44 as unknown as string] } }))[0]).toMatch(
      /expected an ISO 3166-1 alpha-2 code/,
    );
    expect(problems(() => core({ phoneCountries: { allow: [] } }))[0]).toMatch(/refuses every number/);
    expect(problems(() => core({ phoneCountries: {} }))[0]).toMatch(/expected \{ allow/);
    expect(problems(() => core({ phoneCountries: { alow: ['GB'] } as never }))[0]).toMatch(/allow/);
  });

  test('a region without phone numbers of its own is named, not just refused', () => {
    expect(problems(() => core({ phoneCountries: { allow: ['GB', 'AQ'] } }))[0]).toMatch(
      /allow\.1: expected a region with phone numbers of its own: Antarctica has none/,
    );
  });

  test('the same on a route', () => {
    expect(problems(() => ipMatch(core(), { phoneCountries: { allow: ['UK'] } }))[0]).toMatch(
      /did you mean "GB"\?/,
    );
  });
});
