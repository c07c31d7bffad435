import { createSign } from 'node:crypto';
import { type FakeVonage, INSIGHT_STATUSES, startFakeVonage } from 'ipmatch/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createJwtSigner } from '../../src/providers/jwt.js';

let fake: FakeVonage;
beforeAll(async () => {
  fake = await startFakeVonage({ applicationId: 'my-app' });
});
afterEach(() => fake.reset());
afterAll(() => fake.close());

const ALL = { format: {}, current_carrier: {}, original_carrier: {}, roaming: {}, sim_swap: { period: 240 } };

/** An answer as the tests read it: an insights map, or an error body. */
type Answer = Record<string, unknown> & {
  insights: Record<string, Record<string, unknown> & { status: { code: string } }>;
};

async function ii(body: unknown, token?: string | null) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null)
    headers.authorization = `Bearer ${token ?? (await createJwtSigner({ applicationId: 'my-app', privateKey: fake.privateKey }).token())}`;
  const res = await fetch(`${fake.url}/identity-insights/v1/requests`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Answer };
}

describe('startFakeVonage: Identity Insights', () => {
  it('answers every insight asked for, from the number, each with status OK', async () => {
    const { status, json } = await ii({
      phone_number: '447400123456',
      purpose: 'FraudPreventionAndDetection',
      insights: ALL,
    });
    expect(status).toBe(200);
    expect(Object.keys(json.insights)).toEqual(Object.keys(ALL));
    expect(json.insights).toMatchObject({
      format: {
        country_code: 'GB',
        number_international: '+447400123456',
        is_format_valid: true,
        status: { code: 'OK' },
      },
      current_carrier: { country_code: 'GB', network_type: 'MOBILE', status: { code: 'OK' } },
      roaming: { is_roaming: false, country_codes: [], status: { code: 'OK' } },
      sim_swap: { is_swapped: false, status: { code: 'OK' } },
    });
    expect(fake.requests.at(-1)).toMatchObject({
      api: 'identity-insights',
      authorized: true,
      jwt: { application_id: 'my-app' },
    });
  });

  it('answers 401 without a JWT, with one signed by another key, expired, or for another application', async () => {
    const body = { phone_number: '447400123456', insights: { format: {} } };
    const now = Date.now();
    const tokens = [
      null,
      'not.a.jwt',
      await createJwtSigner({ applicationId: 'other-app', privateKey: fake.privateKey }).token(),
      await createJwtSigner({
        applicationId: 'my-app',
        privateKey: fake.privateKey,
        now: () => now - 3_600_000,
      }).token(),
    ];
    // Signed with HS256 over the right claims: the algorithm must be RS256.
    const [h, p] = tokens[3]!.split('.') as [string, string];
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    tokens.push(
      `${header}.${p}.${createSign('sha256').update(`${h}.${p}`).sign(fake.privateKey, 'base64url')}`,
    );
    for (const token of tokens) {
      const { status, json } = await ii(body, token);
      expect(status, String(token)).toBe(401);
      expect(json).toMatchObject({ type: 'about:blank', title: expect.any(String) });
    }
  });

  it('fake.insights() sets a number’s insights; a failed status leaves nothing but the status', async () => {
    fake.insights('+447400123456', {
      roaming: { is_roaming: true, country_codes: ['ES'] },
      sim_swap: { status: { code: 'NO_COVERAGE' } },
    });
    const { json } = await ii({ phone_number: '+447400123456', insights: ALL });
    expect(json.insights.roaming).toMatchObject({
      is_roaming: true,
      country_codes: ['ES'],
      status: { code: 'OK' },
    });
    expect(json.insights.sim_swap).toEqual({
      status: { code: 'NO_COVERAGE', message: INSIGHT_STATUSES.NO_COVERAGE },
    });
    const other = await ii({ phone_number: '447400123457', insights: ALL });
    expect(other.json.insights.roaming?.is_roaming).toBe(false);
  });

  it('answers INVALID_NUMBER_FORMAT for a number that is not one, and 400 for a body that is not a request', async () => {
    const { json } = await ii({ phone_number: '99012', insights: { format: {}, roaming: {} } });
    expect(json.insights.format?.status.code).toBe('INVALID_NUMBER_FORMAT');
    expect(json.insights.roaming?.status.code).toBe('INVALID_NUMBER_FORMAT');
    expect((await ii({ insights: {} })).status).toBe(400);
  });

  it('sends HTTP errors in RFC 7807 or CAMARA shape, 429 for a throttle, and keeps every fault switch', async () => {
    fake.set({ httpStatus: 503 });
    expect((await ii({ phone_number: '447400123456', insights: ALL })).json).toMatchObject({
      type: 'about:blank',
      title: 'Service Unavailable',
    });
    fake.set({ errorShape: 'camara' });
    expect((await ii({ phone_number: '447400123456', insights: ALL })).json).toEqual({
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      message: 'Service Unavailable',
    });
    fake.reset();
    fake.set({ faults: { throttle: 1 } });
    expect((await ii({ phone_number: '447400123456', insights: ALL })).status).toBe(429);
    fake.reset();
    fake.set({ latencyMs: 60 });
    const started = performance.now();
    await ii({ phone_number: '447400123456', insights: ALL });
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });
});
