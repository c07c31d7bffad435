import type { Server } from 'node:http';
import express from 'express';
import {
  createIpMatch,
  type IpMatchDecision,
  type IpMatchOptions,
  identityInsightsProvider,
  vonageProvider,
} from 'ipmatch';
import { ipMatch } from 'ipmatch/express';
import { type FakeVonage, type FakeVonageBehaviour, startFakeVonage } from 'ipmatch/testing';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../helpers/logger.js';

/**
 * The attack of issue 20: thousands of concurrent signups time Vonage out and open the circuit breaker. The
 * remote facts (roaming, SIM swap) are lost for a while, but the offline data still decides: a phone whose
 * country is not the IP's is still blocked, marked `degraded: true` with the error kept. `remoteDown: 'error'`
 * keeps the old behaviour, where the `error` policy (allow by default) decided alone.
 */
const KEY = 'down-key';
const SECRET = 'Down-S3cret-Value-1a2b3c4d';
const GB_PHONE = '+447400123456';
const GB_IP = '81.2.69.160';
/** Korean addresses, one per attacking client, so that no per-IP lookup budget gets in the way. */
const KR_IPS = Array.from({ length: 40 }, (_, i) => `211.234.0.${i + 1}`);
/** Distinct British numbers, as an enumeration attack posts them: none is in the cache. */
const ATTACK_PHONES = KR_IPS.map((_, i) => `+44740098${String(i).padStart(4, '0')}`);

let fake: FakeVonage;
const servers: Server[] = [];
const cores: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  fake = await startFakeVonage({ apiKey: KEY, apiSecret: SECRET });
});
afterEach(async () => {
  for (const c of cores.splice(0)) await c.close();
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
  fake.reset();
});
afterAll(() => fake.close());

/** A signup route behind a loopback proxy, as in production, with the core's decisions and log lines kept. */
function signupApp(options: IpMatchOptions = {}, provider: object = {}) {
  const logger = memoryLogger();
  const decisions: IpMatchDecision[] = [];
  const core = createIpMatch({
    provider: vonageProvider({
      apiKey: KEY,
      apiSecret: SECRET,
      baseUrl: fake.url,
      breaker: { failures: 5, cooldownMs: 60_000 },
      ...provider,
    }),
    logger,
    onDecision: (d) => decisions.push(d),
    timeoutMs: 250,
    // The attack below is 40 numbers of one block from one /24, which velocity flags (subnet_velocity,
    // prefix_burst): off here, so that each decision shows what the remote-down handling alone decides.
    velocity: false,
    ...options,
  });
  cores.push(core);
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(express.json());
  app.post('/signup', ipMatch(core), (req, res) => {
    res.json(req.ipMatch);
  });
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  const signup = (ip: string, phone: string) =>
    request(server).post('/signup').set('x-forwarded-for', ip).send({ phone });
  return { signup, logger, decisions };
}

/**
 * The attack: every client at once, each with a new number, while Vonage hangs; then waits (2 s at most) for the
 * breaker to open, which it does once the timed-out lookups are torn down, just after their decisions.
 */
async function attack({ signup, logger }: Pick<ReturnType<typeof signupApp>, 'signup' | 'logger'>) {
  fake.set({ hang: true });
  const answers = await Promise.all(KR_IPS.map((ip, i) => signup(ip, ATTACK_PHONES[i]!)));
  const opened = () =>
    logger.lines.some((l) => (l.meta as { code?: string }).code === 'IPMATCH_CIRCUIT_OPEN');
  for (let waited = 0; !opened() && waited < 2000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  expect(opened()).toBe(true);
  return answers;
}

describe('when Vonage is down', () => {
  it('blocks a mismatch on the offline data, before and after the breaker opens', async () => {
    const { signup, logger, decisions } = signupApp();
    const answers = await attack({ signup, logger });
    expect(answers.map((a) => a.status)).toEqual(KR_IPS.map(() => 403));
    expect(answers[0]?.body).toEqual({
      error: 'ip_phone_mismatch',
      message: expect.any(String),
      matchLevel: 'mismatch',
      reason: 'country_mismatch',
    });
    expect(decisions[0]).toMatchObject({
      degraded: true,
      provider: 'local',
      error: { code: expect.any(String) },
    });
    // Timeouts, and (for signups that came late) the open breaker: every one decided offline.
    for (const d of decisions) expect(['timeout', 'circuit_open']).toContain(d.error?.code);
    // The breaker is open: lookups skip Vonage now, and the offline data still decides.
    const calls = fake.calls;
    const blocked = await signup(KR_IPS[0]!, GB_PHONE);
    expect(blocked.status).toBe(403);
    expect(blocked.body).toMatchObject({ error: 'ip_phone_mismatch', reason: 'country_mismatch' });
    expect(decisions.at(-1)).toMatchObject({
      action: 'block',
      matchLevel: 'mismatch',
      degraded: true,
      provider: 'local',
      cached: false,
      error: { code: 'circuit_open' },
      ip: { country: 'KR' },
      phone: { number: GB_PHONE, country: 'GB', roamingCountry: null },
    });
    // A genuine signup from the phone's country goes through, degraded too.
    const genuine = await signup(GB_IP, GB_PHONE);
    expect(genuine.status).toBe(200);
    expect(genuine.body).toMatchObject({ action: 'allow', reason: 'country_match', degraded: true });
    expect(fake.calls).toBe(calls);
  });

  it("with remoteDown: 'error', lets the same mismatch through as lookup_failed, as before", async () => {
    const { signup, logger, decisions } = signupApp({ remoteDown: 'error' });
    const answers = await attack({ signup, logger });
    expect(answers.map((a) => a.status)).toEqual(KR_IPS.map(() => 200));
    const open = await signup(KR_IPS[0]!, GB_PHONE);
    expect(open.status).toBe(200);
    expect(open.body).toMatchObject({
      action: 'allow',
      matchLevel: 'unknown',
      reason: 'lookup_failed',
      provider: 'vonage',
      error: { code: 'circuit_open' },
    });
    expect(decisions.some((d) => d.degraded)).toBe(false);
  });

  it('never caches a degraded decision: the next check after an outage asks Vonage again', async () => {
    const { signup } = signupApp();
    fake.set({ httpStatus: 503 });
    expect((await signup(GB_IP, GB_PHONE)).body).toMatchObject({
      degraded: true,
      error: { code: 'http_503' },
    });
    fake.set({ httpStatus: undefined });
    const calls = fake.calls;
    const healed = await signup(GB_IP, GB_PHONE);
    expect(healed.body).toMatchObject({ provider: 'vonage', cached: false, reason: 'country_match' });
    expect(healed.body.degraded).toBeUndefined();
    expect(fake.calls).toBe(calls + 1);
  });

  it("keeps a fail-closed policy closed: error 'block' still blocks a degraded match", async () => {
    const { signup } = signupApp({ policy: { error: 'block' } });
    fake.set({ drop: true });
    const res = await signup(GB_IP, GB_PHONE);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'ip_match_unavailable', reason: 'country_match' });
  });

  it('marks the offline decisions of a spent lookup budget degraded as well', async () => {
    const { signup, decisions } = signupApp({}, { maxLookupsPerMinutePerIp: 1 });
    await signup(GB_IP, ATTACK_PHONES[0]!);
    const over = await signup(GB_IP, ATTACK_PHONES[1]!);
    expect(over.status).toBe(200);
    expect(over.body).toMatchObject({ provider: 'local', budgetExceeded: true, degraded: true });
    expect(over.body.error).toBeUndefined();
    expect(decisions[0]).toMatchObject({ provider: 'vonage', reason: 'country_match' });
    expect(decisions[0]?.degraded).toBeUndefined();
  });
});

describe('which failures degrade and which stay errors', () => {
  const cases: [string, Partial<FakeVonageBehaviour>, string, boolean][] = [
    ['an upstream 5xx', { httpStatus: 502 }, 'http_502', true],
    ['Vonage status 5 (internal error)', { status: 5 }, 'upstream_error', true],
    ['throttling that outlasts the retry', { httpStatus: 429 }, 'throttled', true],
    ['a dropped connection', { drop: true }, 'network_error', true],
    ['a malformed answer', { body: 'not json' }, 'invalid_response', true],
    ['a hung upstream', { hang: true }, 'timeout', true],
    ['rejected credentials (HTTP 401)', { httpStatus: 401 }, 'http_401', false],
    ['rejected credentials (status 4)', { status: 4 }, 'invalid_credentials', false],
    ['an account out of credit (status 9)', { status: 9 }, 'quota_exceeded', false],
    ['a request Vonage refuses (status 3)', { status: 3 }, 'invalid_request', false],
  ];
  it.each(cases)('%s', async (_, behaviour, code, degrades) => {
    const { signup, logger, decisions } = signupApp({ cache: false });
    fake.set(behaviour);
    const res = await signup(KR_IPS[0]!, GB_PHONE);
    const d = decisions.at(-1)!;
    if (degrades) {
      expect(res.status).toBe(403);
      expect(d).toMatchObject({ matchLevel: 'mismatch', degraded: true, provider: 'local', error: { code } });
    } else {
      // An error only the operator can fix stays loud: an error decision, decided by the error policy alone.
      expect(res.status).toBe(200);
      expect(d).toMatchObject({ reason: 'lookup_failed', provider: 'vonage', error: { code } });
      expect(d.degraded).toBeUndefined();
    }
    expect(logger.text()).not.toContain(SECRET);
  });
});

describe('when Identity Insights is down', () => {
  it('decides on the offline data too', async () => {
    const logger = memoryLogger();
    const core = createIpMatch({
      provider: identityInsightsProvider({
        applicationId: fake.applicationId,
        privateKey: fake.privateKey,
        baseUrl: fake.url,
      }),
      logger,
      timeoutMs: 200,
    });
    cores.push(core);
    fake.set({ hang: true });
    expect(await core.check({ phone: GB_PHONE, ip: KR_IPS[0]! })).toMatchObject({
      action: 'block',
      matchLevel: 'mismatch',
      reason: 'country_mismatch',
      degraded: true,
      provider: 'local',
      error: { code: 'timeout' },
    });
  });
});
