import express from 'express';
import fc from 'fast-check';
import { createIpMatch, type IpMatchOptions, type PhoneType } from 'ipmatch';
import { ipMatch, type RouteOptions } from 'ipmatch/express';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import request from 'supertest';
import { describe, expect, test } from 'vitest';
import { createCore } from '../../src/core/ipmatch.js';
import { phoneType } from '../../src/core/phone-type.js';
import { SENDS_OTP_RAISE } from '../../src/core/sends-otp.js';
import { SIGNALS } from '../../src/core/signals.js';
import { localProvider } from '../../src/providers/local.js';
import { simSwapSignals } from '../../src/signals/sim-swap/index.js';
import { GB_IP, recorder, US_IP } from '../helpers/adapter-suite.js';
import { regionNumber } from '../helpers/region-numbers.js';

const core = (options: IpMatchOptions = {}) => createIpMatch({ logger: recorder().logger, ...options });

/** Real numbers, each checked with libphonenumber-js max, from an IP in their own country. */
const CASES: Array<[string, string, PhoneType | null, string[]]> = [
  ['GB mobile 07400', '+447400123456', 'mobile', []],
  ['GB fixed line 020', '+442079460000', 'fixed_line', []],
  ['GB personal number 070', '+447020123456', 'personal_number', []],
  ['GB premium rate 09', '+449098790000', 'premium_rate', ['premium_rate_number']],
  ['GB 0844 (premium in the metadata)', '+448443456789', 'premium_rate', ['premium_rate_number']],
  ['GB toll free 0800', '+448001234567', 'toll_free', ['sms_incapable_number']],
  ['GB pager 076', '+447640123456', 'pager', ['sms_incapable_number']],
  ['GB UAN 03', '+443001234567', 'uan', ['sms_incapable_number']],
  ['GB VoIP 056', '+445612345678', 'voip', ['voip_number']],
  ['GB Ofcom drama range (not valid)', '+447700900001', null, []],
];
const US_CASES: Array<[string, string, PhoneType | null, string[]]> = [
  ['US toll free 800', '+18005551234', 'toll_free', ['sms_incapable_number']],
  // VoIP is invisible offline in the US: every geographic number is fixed_line_or_mobile.
  ['US geographic 650', '+16502530000', 'fixed_line_or_mobile', []],
];

describe('phone.type and the number-type signals', () => {
  // Many numbers from one IP: velocity would flag them (its own tests are test/signals/velocity*.test.ts).
  const ipm = core({ velocity: false });
  test.each(CASES)('%s: %s is %s', async (_, phone, type, signals) => {
    const d = await ipm.check({ phone, ip: GB_IP });
    expect(d.phone.type).toBe(type);
    expect(d.signals).toEqual(signals);
  });
  test.each(US_CASES)('%s: %s is %s', async (_, phone, type, signals) => {
    const d = await ipm.check({ phone, ip: US_IP });
    expect(d.phone.type).toBe(type);
    expect(d.signals).toEqual(signals);
  });

  test('DE shared cost 0180 and CH voicemail 086 (whatever the IP says of the match)', async () => {
    expect((await ipm.check({ phone: '+491801234567', ip: GB_IP })).signals).toEqual(['shared_cost_number']);
    const ch = await ipm.check({ phone: '+41860123456789', ip: GB_IP });
    expect([ch.phone.type, ch.signals]).toEqual(['voicemail', ['sms_incapable_number']]);
  });

  test('a non-geographic VoIP number (+882 16) is voip_number, with no country', async () => {
    const d = await ipm.check({ phone: '+88216500000000', ip: GB_IP });
    expect([d.phone.country, d.phone.type, d.signals]).toEqual([null, 'voip', ['voip_number']]);
  });

  test('no phone number, a private IP, a national number: type null or computed as for the rest', async () => {
    expect((await ipm.check({ phone: 'not a phone', ip: GB_IP })).phone.type).toBeNull();
    const priv = await ipm.check({ phone: '+449098790000', ip: '10.0.0.1' });
    expect([priv.reason, priv.phone.type, priv.signals]).toEqual([
      'ip_not_public',
      'premium_rate',
      ['premium_rate_number'],
    ]);
    const national = await ipm.check({ phone: '0909 879 0000', ip: GB_IP, country: 'GB' });
    expect(national.phone.type).toBe('premium_rate');
  });

  test('default actions: premium and shared cost flag, SMS-incapable and VoIP allow', async () => {
    expect((await ipm.check({ phone: '+449098790000', ip: GB_IP })).action).toBe('flag');
    expect((await ipm.check({ phone: '+448001234567', ip: GB_IP })).action).toBe('allow');
    expect((await ipm.check({ phone: '+445612345678', ip: GB_IP })).action).toBe('allow');
    expect(SIGNALS.shared_cost_number.action).toBe('flag');
  });

  test('a core whose sources do not ask for the type leaves it null', async () => {
    const bare = createCore(
      { logger: recorder().logger },
      { provider: () => localProvider(), signals: [simSwapSignals] },
    );
    const d = await bare.check({ phone: '+449098790000', ip: GB_IP });
    expect([d.phone.type, d.signals, d.action]).toEqual([null, [], 'allow']);
  });

  const candidate = regionNumber;
  const typeOf = (phone: string) => {
    const reference = parsePhoneNumberFromString(phone);
    fc.pre(reference?.isValid() === true);
    return { e164: reference!.number, type: reference!.getType()?.toLowerCase() ?? null };
  };

  test("property: phone.type is libphonenumber-js max's getNumberType() for valid numbers of every region", async () => {
    await fc.assert(
      fc.asyncProperty(candidate, async (phone) => {
        const { type } = typeOf(phone);
        expect((await ipm.check({ phone, ip: GB_IP })).phone.type).toBe(type);
      }),
      { numRuns: 1000 },
    );
  });

  test('property: without a region hint, a shared calling code (+1, +7, +44…) picks the region as libphonenumber-js does', () => {
    fc.assert(
      fc.property(candidate, (phone) => {
        const { e164, type } = typeOf(phone);
        expect(phoneType(e164, null)).toBe(type);
      }),
      { numRuns: 2000 },
    );
  });
});

/** An OTP signup route on Express, the client IP from X-Forwarded-For through a loopback proxy. */
function otpApp(route: RouteOptions, options: IpMatchOptions = {}) {
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(express.json());
  app.post('/otp', ipMatch(core(options), route), (req, res) => {
    res.json({ decision: req.ipMatch });
  });
  return (phone: string) => request(app).post('/otp').set('X-Forwarded-For', GB_IP).send({ phone });
}

describe('sendsOtp: a route that sends a code raises the number-type signals', () => {
  test('a premium number is refused: 403 naming premium_rate_number, with its message', async () => {
    const res = await otpApp({ sendsOtp: true })('+449098790000');
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      error: 'premium_rate_number',
      message: SIGNALS.premium_rate_number.message,
      matchLevel: 'country',
    });
  });

  test.each([
    ['sms_incapable_number (toll free)', '+448001234567', 403, 'sms_incapable_number'],
    ['sms_incapable_number (pager)', '+447640123456', 403, 'sms_incapable_number'],
    ['shared_cost_number (DE 0180, the mismatch allowed)', '+491801234567', 403, 'shared_cost_number'],
  ])('%s is blocked', async (_, phone, status, error) => {
    const res = await otpApp({ sendsOtp: true, policy: { mismatch: 'allow' } })(phone);
    expect([res.status, res.body.error]).toEqual([status, error]);
  });

  test('a VoIP number is flagged, a mobile allowed', async () => {
    const send = otpApp({ sendsOtp: true });
    expect((await send('+445612345678')).body.decision).toMatchObject({
      action: 'flag',
      signals: ['voip_number'],
    });
    expect((await send('+447400123456')).body.decision).toMatchObject({ action: 'allow', signals: [] });
  });

  test('without sendsOtp the same premium number is only flagged', async () => {
    const res = await otpApp({})('+449098790000');
    expect([res.status, res.body.decision.action]).toEqual([200, 'flag']);
  });

  test("the route's policy map wins over the raise", async () => {
    const send = otpApp({ sendsOtp: true, policy: { premium_rate_number: 'allow' } });
    expect((await send('+449098790000')).body.decision.action).toBe('allow');
    expect((await send('+448001234567')).status).toBe(403);
  });

  test("the core's policy map wins over the raise: defaults < sendsOtp < core map < route map", async () => {
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(express.json());
    const shared = core({ policy: { sms_incapable_number: 'flag', voip_number: 'block' } });
    app.post('/otp', ipMatch(shared, { sendsOtp: true }), (req, res) => res.json(req.ipMatch));
    app.post('/otp2', ipMatch(shared, { sendsOtp: true, policy: { voip_number: 'allow' } }), (req, res) =>
      res.json(req.ipMatch),
    );
    const post = (path: string, phone: string) =>
      request(app).post(path).set('X-Forwarded-For', GB_IP).send({ phone });
    expect((await post('/otp', '+448001234567')).body.action).toBe('flag');
    expect((await post('/otp', '+445612345678')).status).toBe(403);
    expect((await post('/otp2', '+445612345678')).body.action).toBe('allow');
    expect((await post('/otp', '+449098790000')).status).toBe(403);
  });

  test('sendsOtp on the core raises every route of it; a route can say false', async () => {
    const shared = core({ sendsOtp: true });
    expect((await shared.check({ phone: '+449098790000', ip: GB_IP })).action).toBe('block');
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(express.json());
    app.post('/login', ipMatch(shared, { sendsOtp: false }), (req, res) => res.json(req.ipMatch));
    const res = await request(app)
      .post('/login')
      .set('X-Forwarded-For', GB_IP)
      .send({ phone: '+449098790000' });
    expect([res.status, res.body.action]).toEqual([200, 'flag']);
  });

  test('a policy function decides alone; a block it makes names the signal the raised map blocks', async () => {
    const send = otpApp({
      sendsOtp: true,
      phoneCountries: { deny: ['GB'] },
      policy: (r) => (r.signals.length > 0 ? 'block' : 'allow'),
    });
    // Both signals: without the raise, the defaults would name country_not_allowed (premium is only flagged there).
    const premium = await send('+449098790000');
    expect(premium.body).toMatchObject({ error: 'premium_rate_number' });
    expect((await send('+447400123456')).body).toMatchObject({ error: 'country_not_allowed' });
  });

  test('the raise is one table: block for the number types that cost money, flag for VoIP', () => {
    expect(SENDS_OTP_RAISE).toEqual({
      premium_rate_number: 'block',
      shared_cost_number: 'block',
      sms_incapable_number: 'block',
      voip_number: 'flag',
      prefix_burst: 'block',
    });
  });

  test('sendsOtp must be a boolean', () => {
    expect(() => ipMatch(core(), { sendsOtp: 'yes' as unknown as boolean })).toThrow(/sendsOtp/);
    expect(() => core({ sendsOtp: 1 as unknown as boolean })).toThrow(/sendsOtp/);
  });
});
