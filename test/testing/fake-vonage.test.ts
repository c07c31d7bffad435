import { type FakeVonage, type FakeVonageOptions, startFakeVonage } from 'ipmatch/testing';
import { afterEach, describe, expect, it } from 'vitest';

const AUTH = `Basic ${Buffer.from('test-key:test-secret').toString('base64')}`;
const fakes: FakeVonage[] = [];

async function start(options?: FakeVonageOptions) {
  const fake = await startFakeVonage(options);
  fakes.push(fake);
  return fake;
}

afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function ni(
  fake: FakeVonage,
  query: string,
  init: { level?: string; auth?: string | null; signal?: AbortSignal } = {},
) {
  const headers: Record<string, string> = {};
  if (init.auth !== null) headers.authorization = init.auth ?? AUTH;
  const res = await fetch(`${fake.url}/ni/${init.level ?? 'advanced'}/json?${query}`, {
    headers,
    signal: init.signal,
  });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, text, json };
}

/** Waits (bounded) until `cond` holds. */
async function until(cond: () => boolean, what: string) {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe('startFakeVonage', () => {
  it('answers an Advanced lookup with the number’s own country and a full success body', async () => {
    const fake = await start();
    const { status, json } = await ni(fake, 'number=447400123456');
    expect(status).toBe(200);
    expect(json).toMatchObject({
      status: 0,
      status_message: 'Success',
      international_format_number: '447400123456',
      country_code: 'GB',
      country_name: 'United Kingdom',
      country_prefix: '44',
      request_price: '0.03000000',
      current_carrier: { name: 'Fake Vonage Carrier', network_type: 'mobile' },
      valid_number: 'valid',
      reachable: 'reachable',
      ported: 'not_ported',
      roaming: { status: 'not_roaming' },
    });
    expect(typeof json?.remaining_balance).toBe('string');
    expect((await ni(fake, 'number=33612345678')).json?.country_code).toBe('FR');
    expect((await ni(fake, 'number=447911123456')).json?.country_code).toBe('GG');
    // Ofcom's drama range: possible, in no allocated range; Vonage still says GB.
    expect((await ni(fake, 'number=447700900001')).json).toMatchObject({
      country_code: 'GB',
      valid_number: 'not_valid',
    });
  });

  it('answers Basic and Standard with fewer fields', async () => {
    const fake = await start();
    const basic = (await ni(fake, 'number=33612345678', { level: 'basic' })).json;
    expect(basic).toMatchObject({ status: 0, country_code: 'FR' });
    expect(basic).not.toHaveProperty('request_price');
    expect(basic).not.toHaveProperty('current_carrier');
    const standard = (await ni(fake, 'number=33612345678', { level: 'standard' })).json;
    expect(standard).toMatchObject({ status: 0, country_code: 'FR', request_price: '0.00500000' });
    expect(standard).toHaveProperty('current_carrier');
    expect(standard).not.toHaveProperty('roaming');
    expect(standard).not.toHaveProperty('valid_number');
  });

  it('answers status 4 to wrong or missing credentials, and records no secret', async () => {
    const fake = await start({ apiKey: 'k', apiSecret: 'very-secret' });
    const wrong = `Basic ${Buffer.from('k:nope').toString('base64')}`;
    expect((await ni(fake, 'number=33612345678', { auth: wrong })).json).toMatchObject({ status: 4 });
    expect((await ni(fake, 'number=33612345678', { auth: null })).json).toMatchObject({ status: 4 });
    const right = `Basic ${Buffer.from('k:very-secret').toString('base64')}`;
    expect((await ni(fake, 'number=33612345678', { auth: right })).json).toMatchObject({ status: 0 });
    // The real API also takes credentials as parameters; the fake accepts them but marks the leak.
    expect(
      (await ni(fake, 'number=33612345678&api_key=k&api_secret=very-secret', { auth: null })).json,
    ).toMatchObject({
      status: 0,
    });
    expect(fake.requests.map((r) => [r.authorized, r.auth])).toEqual([
      [false, 'header'],
      [false, null],
      [true, 'header'],
      [true, 'query'],
    ]);
    expect(fake.requests[3]?.query.api_secret).toBe('[redacted]');
    const recorded = JSON.stringify(fake.requests);
    expect(recorded).not.toContain('very-secret');
    expect(recorded).not.toContain(right.slice(6));
    expect(fake.requests[0]?.headers).not.toHaveProperty('authorization');
  });

  it('records each request’s path, level and query, and counts calls', async () => {
    const fake = await start();
    await ni(fake, 'number=14155550123&cnam=true', { level: 'standard' });
    expect(fake.calls).toBe(1);
    expect(fake.requests[0]).toMatchObject({
      method: 'GET',
      path: '/ni/standard/json',
      level: 'standard',
      query: { number: '14155550123', cnam: 'true' },
      authorized: true,
    });
  });

  it('gives a US caller name only when cnam=true is asked', async () => {
    const fake = await start();
    expect((await ni(fake, 'number=14155550123&cnam=true')).json?.caller_identity).toMatchObject({
      caller_name: 'Jane Doe',
    });
    expect((await ni(fake, 'number=14155550123')).json).not.toHaveProperty('caller_identity');
  });

  it('answers status 3 to a number that is not one, and 404 off the Number Insight paths', async () => {
    const fake = await start();
    expect((await ni(fake, 'number=abc')).json).toMatchObject({ status: 3 });
    expect((await ni(fake, 'number=12')).json).toMatchObject({ status: 3 });
    expect((await ni(fake, '')).json).toMatchObject({ status: 3 });
    const res = await fetch(`${fake.url}/ni/premium/json?number=33612345678`, {
      headers: { authorization: AUTH },
    });
    expect(res.status).toBe(404);
    await res.text();
  });

  it('answers per number with answer(), merged over the generated answer', async () => {
    const fake = await start({ answers: { '+33612345678': { reachable: 'absent' } } });
    fake.answer('+447400123456', { roaming: { status: 'roaming', roaming_country_code: 'ES' } });
    expect((await ni(fake, 'number=447400123456')).json).toMatchObject({
      country_code: 'GB',
      roaming: { status: 'roaming', roaming_country_code: 'ES' },
    });
    expect((await ni(fake, 'number=33612345678')).json).toMatchObject({ reachable: 'absent' });
    fake.answer('447400123456', null);
    expect((await ni(fake, 'number=447400123456')).json).toMatchObject({
      roaming: { status: 'not_roaming' },
    });
  });

  it('answers any NI status: errors carry only status fields, 43-45 partial data', async () => {
    const fake = await start({ status: 5 });
    const error = (await ni(fake, 'number=33612345678')).json;
    expect(error).toMatchObject({ status: 5, status_message: 'Internal Error' });
    expect(error).not.toHaveProperty('country_code');
    fake.set({ status: 44 });
    const partial = (await ni(fake, 'number=33612345678')).json;
    expect(partial).toMatchObject({
      status: 44,
      country_code: 'FR',
      current_carrier: { name: 'Fake Vonage Carrier' },
    });
    expect(partial).not.toHaveProperty('roaming');
    fake.set({ status: 0 });
    expect((await ni(fake, 'number=33612345678')).json).toMatchObject({ status: 0 });
  });

  it('switches roaming and the legacy ip object; the ip object comes back only when ip was sent', async () => {
    const fake = await start({
      roaming: 'unknown',
      ip: { ip_match_level: 'Country Level', ip_country: 'FR' },
    });
    expect((await ni(fake, 'number=33612345678')).json?.roaming).toBe('unknown');
    expect((await ni(fake, 'number=33612345678')).json).not.toHaveProperty('ip');
    expect((await ni(fake, 'number=33612345678&ip=81.2.69.160')).json?.ip).toEqual({
      address: '81.2.69.160',
      ip_city: '',
      ip_match_level: 'Country Level',
      ip_country: 'FR',
    });
    fake.set({ roaming: { status: 'unknown' } });
    expect((await ni(fake, 'number=33612345678')).json?.roaming).toEqual({ status: 'unknown' });
  });

  it('draws each billed answer from the balance', async () => {
    const fake = await start({ balance: 1 });
    await ni(fake, 'number=33612345678');
    expect((await ni(fake, 'number=33612345678')).json?.remaining_balance).toBe('0.97000000');
  });

  it('answers any HTTP status, a raw body, or truncated JSON', async () => {
    const fake = await start({ httpStatus: 502 });
    const bad = await ni(fake, 'number=33612345678');
    expect(bad.status).toBe(502);
    expect(bad.json).toMatchObject({ title: 'Bad Gateway' });
    fake.set({ httpStatus: undefined, body: '<html>oops</html>' });
    expect(await ni(fake, 'number=33612345678')).toMatchObject({
      status: 200,
      text: '<html>oops</html>',
      json: undefined,
    });
    fake.set({ body: undefined, truncate: true });
    const cut = await ni(fake, 'number=33612345678');
    expect(cut.status).toBe(200);
    expect(cut.text.startsWith('{"status":0')).toBe(true);
    expect(cut.json).toBeUndefined();
  });

  it('drops the connection, or hangs until the client gives up', async () => {
    const fake = await start({ drop: true });
    await expect(ni(fake, 'number=33612345678')).rejects.toThrow();
    fake.set({ drop: false, hang: true });
    const controller = new AbortController();
    const pending = ni(fake, 'number=33612345678', { signal: controller.signal });
    await until(() => fake.calls === 2, 'the hung request to arrive');
    expect(fake.inFlight).toBe(1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await until(() => fake.inFlight === 0, 'the hung request to end');
    expect(fake.calls).toBe(2);
  });

  it('waits latencyMs before answering', async () => {
    const fake = await start({ latencyMs: 30 });
    const started = performance.now();
    expect((await ni(fake, 'number=33612345678')).json).toMatchObject({ status: 0 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('lets a fault() hook pick the behaviour per request', async () => {
    const fake = await start({
      fault: (r) => (r.query.number === '447400123456' ? { status: 1 } : undefined),
    });
    expect((await ni(fake, 'number=447400123456')).json).toMatchObject({ status: 1 });
    expect((await ni(fake, 'number=33612345678')).json).toMatchObject({ status: 0 });
    fake.set({ fault: undefined });
    expect((await ni(fake, 'number=447400123456')).json).toMatchObject({ status: 0 });
  });

  it('replays the same random fault mix from the same seed', async () => {
    const outcomes = async (seed: number) => {
      const fake = await start({ seed, faults: { drop: 0.2, http502: 0.2, truncated: 0.2, throttle: 0.2 } });
      const seen: string[] = [];
      for (let i = 0; i < 30; i++) {
        const r = await ni(fake, 'number=33612345678').catch(() => undefined);
        seen.push(
          r === undefined
            ? 'drop'
            : r.status === 502
              ? '502'
              : r.json === undefined
                ? 'cut'
                : `s${r.json.status}`,
        );
      }
      return seen;
    };
    const first = await outcomes(42);
    expect(await outcomes(42)).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['drop', '502', 'cut', 's1', 's0']));
  });

  it('counts sockets, so that keep-alive reuse can be asserted', async () => {
    const fake = await start();
    for (let i = 0; i < 10; i++) await ni(fake, 'number=33612345678');
    expect(fake.calls).toBe(10);
    expect(fake.connections).toBeGreaterThanOrEqual(1);
    expect(fake.connections).toBeLessThanOrEqual(2);
  });

  it('close() ends hung requests too', async () => {
    const fake = await start({ hang: true });
    const pending = ni(fake, 'number=33612345678');
    // Handle the rejection before close() causes it, so it never counts as unhandled.
    const rejected = expect(pending).rejects.toThrow();
    await until(() => fake.calls === 1, 'the hung request to arrive');
    expect(fake.openConnections).toBe(1);
    await fake.close();
    await rejected;
    expect(fake.openConnections).toBe(0);
  });

  it('accepts a POST with a form body, as the real API does', async () => {
    const fake = await start();
    const res = await fetch(`${fake.url}/ni/basic/json`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'number=33612345678',
    });
    expect(await res.json()).toMatchObject({ status: 0, country_code: 'FR' });
  });

  it('rejects misspelt options and bad settings with a correction', async () => {
    await expect(startFakeVonage({ latencyMS: 10 } as FakeVonageOptions)).rejects.toThrow(
      /latencyMS: unknown option; did you mean "latencyMs"/,
    );
    await expect(startFakeVonage({ faults: { drop: 0.7, hang: 0.7 } })).rejects.toThrow(/sum to at most 1/);
    const fake = await start();
    expect(() => fake.set({ hangs: true } as never)).toThrow(/did you mean "hang"/);
  });

  it('reset() goes back to the start options', async () => {
    const fake = await start({ status: 5 });
    fake.set({ status: 9, hang: true });
    fake.reset();
    expect((await ni(fake, 'number=33612345678')).json).toMatchObject({ status: 5 });
  });
});
