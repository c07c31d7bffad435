import { generateKeyPairSync } from 'node:crypto';
import { bodyParser } from '@koa/bodyparser';
import express from 'express';
import {
  createIpMatch,
  type IdentityInsightsProviderOptions,
  type IpMatch,
  type IpMatchDecision,
  type IpMatchOptions,
  identityInsightsProvider,
} from 'ipmatch';
import { ipMatch as expressIpMatch } from 'ipmatch/express';
import { ipMatch as koaIpMatch } from 'ipmatch/koa';
import { type FakeVonage, INSIGHT_STATUSES, startFakeVonage } from 'ipmatch/testing';
import Koa from 'koa';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../helpers/logger.js';

/** Identity Insights end to end: the real core, JWTs and HTTP client against the fake server's second API. */
const GB_PHONE = '+447400123456';
const US_PHONE = '+12025550123';
const GB_IP = '81.2.69.160';
const KR_IP = '211.234.0.1';
const ES_IP = '88.26.0.1';

let fake: FakeVonage;
let callsAtStart = 0;
const calls = () => fake.calls - callsAtStart;
const logger = memoryLogger();
const decisions: IpMatchDecision[] = [];
const cores: IpMatch[] = [];

function provider(options: Partial<IdentityInsightsProviderOptions> = {}) {
  return identityInsightsProvider({
    applicationId: fake.applicationId,
    privateKey: fake.privateKey,
    baseUrl: fake.url,
    ...options,
  });
}

function core(options: IpMatchOptions = {}, providerOptions: Partial<IdentityInsightsProviderOptions> = {}) {
  const c = createIpMatch({
    provider: provider(providerOptions),
    logger,
    onDecision: (d) => decisions.push(d),
    // These tests are about the error each failure becomes; test/e2e/remote-down.test.ts covers the offline default.
    remoteDown: 'error',
    ...options,
  });
  cores.push(c);
  return c;
}

/** The insights the last request asked for, in order. */
const askedFor = () =>
  Object.keys((fake.requests.at(-1)?.body as { insights?: object } | undefined)?.insights ?? {});
const roamingIn = (...countries: string[]) => ({ roaming: { is_roaming: true, country_codes: countries } });
const swapped = { sim_swap: { is_swapped: true, latest_sim_swap_at: '2026-11-29T21:00:00Z' } };

beforeAll(async () => {
  fake = await startFakeVonage();
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
  // No key material anywhere a user could see it: decisions, logs, nor what the fake recorded.
  const keyBody = fake.privateKey.split('\n').slice(1, -2).join('');
  const seen = [JSON.stringify(decisions), logger.text(), JSON.stringify(fake.requests)].join('\n');
  expect(decisions.length).toBeGreaterThan(30);
  for (const line of fake.privateKey.split('\n').slice(1, -2)) expect(seen).not.toContain(line);
  expect(seen).not.toContain(keyBody.slice(0, 24));
  expect(seen).not.toMatch(/PRIVATE KEY|Bearer /);
  expect(logger.text()).not.toContain('447400123456');
});

describe('identityInsightsProvider through the core', () => {
  it('asks for format, current_carrier, roaming and sim_swap with a signed JWT, and decides from the answer', async () => {
    const d = await core().check({ phone: GB_PHONE, ip: GB_IP });
    expect(d).toMatchObject({
      action: 'allow',
      matchLevel: 'country',
      reason: 'country_match',
      provider: 'vonage-identity-insights',
      signals: [],
      cached: false,
      phone: {
        number: GB_PHONE,
        country: 'GB',
        roamingCountry: null,
        roamingCountries: [],
        valid: true,
        carrier: 'Fake Vonage Carrier',
        networkType: 'mobile',
        simSwap: { swapped: false, at: null },
      },
    });
    expect(d.phone.missingInsights).toBeUndefined();
    expect(fake.requests.at(-1)).toMatchObject({
      api: 'identity-insights',
      authorized: true,
      auth: 'bearer',
      jwt: { application_id: fake.applicationId },
      body: {
        phone_number: '447400123456',
        purpose: 'FraudPreventionAndDetection',
        insights: { format: {}, current_carrier: {}, roaming: {}, sim_swap: { period: 240 } },
      },
    });
  });

  it('asks only for what is configured', async () => {
    await core({}, { insights: { roaming: false, simSwap: { periodHours: 48 } }, purpose: 'Other' }).check({
      phone: GB_PHONE,
      ip: GB_IP,
    });
    expect(fake.requests.at(-1)?.body).toMatchObject({
      purpose: 'Other',
      insights: { format: {}, current_carrier: {}, sim_swap: { period: 48 } },
    });
    expect(askedFor()).toEqual(['format', 'current_carrier', 'sim_swap']);
    await core({}, { insights: { simSwap: false } }).check({ phone: US_PHONE, ip: GB_IP });
    expect(askedFor()).toEqual(['format', 'current_carrier', 'roaming']);
  });

  it('a GB phone roaming in ES, checked from an ES IP, is a roaming match', async () => {
    fake.insights(GB_PHONE, roamingIn('ES'));
    const d = await core().check({ phone: GB_PHONE, ip: ES_IP });
    expect(d).toMatchObject({
      action: 'allow',
      matchLevel: 'country',
      reason: 'roaming_match',
      phone: { country: 'GB', roamingCountry: 'ES', roamingCountries: ['ES'] },
    });
  });

  it('roaming in two countries matches an IP in either', async () => {
    fake.insights(GB_PHONE, roamingIn('fr', 'ES'));
    const d = await core().check({ phone: GB_PHONE, ip: ES_IP });
    expect(d).toMatchObject({
      reason: 'roaming_match',
      phone: { roamingCountry: 'FR', roamingCountries: ['FR', 'ES'] },
    });
    expect((await core().check({ phone: GB_PHONE, ip: KR_IP })).reason).toBe('country_mismatch');
  });

  it('a roaming insight with NO_COVERAGE leaves the decision to the other facts, and says so', async () => {
    fake.insights(GB_PHONE, { roaming: { status: { code: 'NO_COVERAGE' } } });
    const d = await core().check({ phone: GB_PHONE, ip: ES_IP });
    expect(d).toMatchObject({
      action: 'block',
      matchLevel: 'mismatch',
      reason: 'country_mismatch',
      phone: { country: 'GB', roamingCountry: null, missingInsights: { roaming: 'NO_COVERAGE' } },
    });
    expect(d.error).toBeUndefined();
    expect(d.phone.roamingCountries).toBeUndefined();
  });

  it('every per-insight status: OK and PARTIAL_SUCCESS (any case) give facts, the others are missing insights', async () => {
    for (const code of [...Object.keys(INSIGHT_STATUSES), 'ok', 'Partial_Success']) {
      fake.insights(GB_PHONE, { sim_swap: { status: { code }, is_swapped: true } });
      const d = await core({ cache: false }).check({ phone: GB_PHONE, ip: GB_IP });
      const usable = /^(ok|partial_success)$/i.test(code);
      expect(d.error, code).toBeUndefined();
      expect(d.signals, code).toEqual(usable ? ['sim_swapped'] : []);
      expect(d.phone.missingInsights, code).toEqual(usable ? undefined : { sim_swap: code });
    }
  });

  it('takes the country from current_carrier, then from the number, when format fails', async () => {
    fake.insights(GB_PHONE, { format: { status: { code: 'INTERNAL_ERROR' } } });
    expect((await core({ cache: false }).check({ phone: GB_PHONE, ip: GB_IP })).phone).toMatchObject({
      country: 'GB',
      missingInsights: { format: 'INTERNAL_ERROR' },
    });
    fake.insights(GB_PHONE, {
      format: { status: { code: 'INTERNAL_ERROR' } },
      current_carrier: { status: { code: 'SUPPLIER_ERROR' } },
    });
    const d = await core({ cache: false }).check({ phone: GB_PHONE, ip: GB_IP });
    expect(d).toMatchObject({ reason: 'country_match', phone: { country: 'GB' } });
    expect(d.phone.missingInsights).toEqual({ format: 'INTERNAL_ERROR', current_carrier: 'SUPPLIER_ERROR' });
  });

  it('a SIM swapped within the period is the sim_swapped signal: flagged by default, blocked when configured', async () => {
    fake.insights(GB_PHONE, swapped);
    const flagged = await core().check({ phone: GB_PHONE, ip: GB_IP });
    expect(flagged).toMatchObject({
      action: 'flag',
      matchLevel: 'country',
      signals: ['sim_swapped'],
      phone: { simSwap: { swapped: true, at: '2026-11-29T21:00:00Z' } },
    });
    const blocked = await core({ policy: { sim_swapped: 'block' } }).check({ phone: GB_PHONE, ip: GB_IP });
    expect(blocked).toMatchObject({ action: 'block', signals: ['sim_swapped'] });
  });

  it('HTTP errors in either body shape are the check error, decided by the error policy', async () => {
    for (const errorShape of ['problem', 'camara'] as const) {
      for (const httpStatus of [400, 422, 500, 503]) {
        fake.set({ httpStatus, errorShape });
        const open = await core({ cache: false }, { breaker: false }).check({ phone: GB_PHONE, ip: GB_IP });
        expect(open).toMatchObject({
          action: 'allow',
          reason: 'lookup_failed',
          error: { code: `http_${httpStatus}` },
        });
        expect(open.error?.message).toMatch(/^Vonage Identity Insights answered HTTP \d{3} \([\w .-]+\)$/);
        const closed = await core({ cache: false, policy: { error: 'block' } }, { breaker: false }).check({
          phone: GB_PHONE,
          ip: GB_IP,
        });
        expect(closed.action).toBe('block');
      }
    }
  });

  it('an expired or badly signed JWT gets the fake 401; the error policy decides, and the cause is logged once', async () => {
    const hourAgo = () => Date.now() - 3_600_000;
    const expired = await core({ policy: { error: 'block' } }, { now: hourAgo }).check({
      phone: GB_PHONE,
      ip: GB_IP,
    });
    expect(expired).toMatchObject({ action: 'block', reason: 'lookup_failed', error: { code: 'http_401' } });
    expect(fake.requests.at(-1)).toMatchObject({ auth: 'bearer', authorized: false, jwt: null });
    const other = await startFakeVonage();
    try {
      // A key the fake did not issue: a valid RSA key, a valid JWT, the wrong signature.
      const wrongKey = await core(
        {},
        { privateKey: other.privateKey === fake.privateKey ? otherKey() : other.privateKey },
      ).check({
        phone: US_PHONE,
        ip: GB_IP,
      });
      expect(wrongKey).toMatchObject({ action: 'allow', error: { code: 'http_401' } });
      const wrongApp = await core({}, { applicationId: '5011e011-e000-4000-8000-000000000002' }).check({
        phone: US_PHONE,
        ip: KR_IP,
      });
      expect(wrongApp.error?.code).toBe('http_401');
    } finally {
      await other.close();
    }
    expect(
      logger.lines.filter((l) => (l.meta as { code?: string }).code === 'IPMATCH_VONAGE_CREDENTIALS').length,
    ).toBeGreaterThan(0);
  });

  it('retries once after a 429, within the budget', async () => {
    let first = true;
    fake.set({
      fault: (r) => {
        if (r.api !== 'identity-insights' || !first) return undefined;
        first = false;
        return { status: 1 };
      },
    });
    const d = await core().check({ phone: GB_PHONE, ip: GB_IP });
    expect(d).toMatchObject({ reason: 'country_match' });
    expect(calls()).toBe(2);
  });

  it('a truncated or non-JSON answer, a hang and a dropped connection are errors, never exceptions', async () => {
    for (const [fault, code] of [
      [{ truncate: true }, 'invalid_response'],
      [{ body: 'not json' }, 'invalid_response'],
      [{ body: '{"insights": {"format": {"status": {}}}}' }, 'invalid_response'],
      [{ drop: true }, 'network_error'],
      [{ hang: true }, 'timeout'],
    ] as const) {
      fake.set(fault);
      const d = await core({ cache: false, timeoutMs: 200 }, { breaker: false }).check({
        phone: GB_PHONE,
        ip: GB_IP,
      });
      expect(d.error?.code, JSON.stringify(fault)).toBe(code);
      fake.reset();
    }
  });

  it('makes one call for 100 concurrent checks of one number, re-using one JWT', async () => {
    fake.set({ latencyMs: 30 });
    const ipm = core();
    const all = await Promise.all(
      Array.from({ length: 100 }, () => ipm.check({ phone: GB_PHONE, ip: GB_IP })),
    );
    expect(calls()).toBe(1);
    expect(all.filter((d) => !d.cached)).toHaveLength(1);
  });

  it('signs one JWT for many lookups, and a new one only near the end of its life', async () => {
    let now = Date.now();
    const ipm = core({ cache: false }, { now: () => now });
    for (const phone of [GB_PHONE, US_PHONE, '+33612345678', '+4915123456789']) {
      await ipm.check({ phone, ip: GB_IP });
    }
    const jtis = () => new Set(fake.requests.slice(callsAtStart).map((r) => r.jwt?.jti));
    expect(jtis().size).toBe(1);
    now += 15 * 60_000 - 30_000;
    await ipm.check({ phone: GB_PHONE, ip: GB_IP });
    expect(jtis().size).toBe(2);
    expect(fake.requests.at(-1)?.authorized).toBe(false); // the fake's clock is real: the token is from the future
  });
});

/** A key the fake did not issue (the fakes of one process share one key pair). */
function otherKey(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
}

/** What a user sees: the 403 names the signal; a roaming traveller gets through. Same in Express and Koa. */
function expressApp(options: IpMatchOptions) {
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(express.json());
  app.post('/signup', expressIpMatch(core(options)), (req, res) => {
    res.json(req.ipMatch);
  });
  return app;
}

function koaApp(options: IpMatchOptions) {
  const app = new Koa({ proxy: true });
  app.silent = true;
  app.use(bodyParser());
  const check = koaIpMatch(core(options));
  app.use((ctx, next) => check(ctx, next));
  app.use((ctx) => {
    ctx.body = ctx.state.ipMatch;
  });
  return app.callback();
}

describe.each([
  ['Express', expressApp],
  ['Koa', koaApp],
] as const)('identityInsightsProvider through %s', (_name, appOf) => {
  const post = (options: IpMatchOptions, ip: string) =>
    request(appOf(options)).post('/signup').set('x-forwarded-for', ip).send({ phone: GB_PHONE });

  it('lets a phone roaming in the IP country through, and blocks the same phone elsewhere', async () => {
    fake.insights(GB_PHONE, roamingIn('KR', 'ES'));
    const through = await post({}, ES_IP);
    expect(through.status).toBe(200);
    expect(through.body).toMatchObject({
      reason: 'roaming_match',
      phone: { roamingCountries: ['KR', 'ES'] },
    });
    fake.insights(GB_PHONE, { roaming: { status: { code: 'NO_COVERAGE' } } });
    const blocked = await post({}, ES_IP);
    expect(blocked.status).toBe(403);
    expect(blocked.body).toMatchObject({ error: 'ip_phone_mismatch', reason: 'country_mismatch' });
  });

  it('flags a swapped SIM by default, and answers 403 sim_swapped when the policy blocks it', async () => {
    fake.insights(GB_PHONE, swapped);
    const flagged = await post({}, GB_IP);
    expect(flagged.status).toBe(200);
    expect(flagged.body).toMatchObject({ action: 'flag', signals: ['sim_swapped'] });
    const blocked = await post({ policy: { sim_swapped: 'block' } }, GB_IP);
    expect(blocked.status).toBe(403);
    expect(blocked.body).toEqual({
      error: 'sim_swapped',
      message: expect.stringMatching(/SIM/),
      matchLevel: 'country',
      reason: 'country_match',
    });
    const observed = await post({ policy: { sim_swapped: 'block' }, mode: 'observe' }, GB_IP);
    expect(observed.status).toBe(200);
    expect(observed.body).toMatchObject({ action: 'flag', policyAction: 'block' });
  });

  it('fails open on a 401 by default, and closed with 403 ip_match_unavailable when told', async () => {
    fake.set({ httpStatus: 401 });
    expect((await post({}, GB_IP)).status).toBe(200);
    const closed = await post({ policy: { error: 'block' } }, GB_IP);
    expect(closed.status).toBe(403);
    expect(closed.body).toMatchObject({ error: 'ip_match_unavailable', reason: 'lookup_failed' });
  });
});
