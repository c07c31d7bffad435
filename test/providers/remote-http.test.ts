import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type FakeVonage, startFakeVonage } from 'ipmatch/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, RemoteHttp } from '../../src/providers/remote-http.js';

let fake: FakeVonage;
beforeAll(async () => {
  fake = await startFakeVonage();
});
afterAll(() => fake.close());

const AUTH = { authorization: `Basic ${Buffer.from('test-key:test-secret').toString('base64')}` };
const signal = () => new AbortController().signal;

describe.each(['undici', 'fetch'] as const)('RemoteHttp over %s', (transport) => {
  const http = (baseUrl = fake.url) =>
    new RemoteHttp({ baseUrl, connections: 2, service: 'Vonage', transport });

  it('GETs and POSTs, with the base URL path as prefix', async () => {
    const client = http(`${fake.url}/`);
    const got = await client.request({
      method: 'GET',
      path: '/ni/basic/json?number=447400123456',
      headers: AUTH,
      budget: { signal: signal() },
    });
    expect(got.statusCode).toBe(200);
    expect(JSON.parse(got.body)).toMatchObject({ status: 0, country_code: 'GB' });
    const posted = await client.request({
      method: 'POST',
      path: '/identity-insights/v1/requests',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      budget: { signal: signal() },
    });
    expect(posted.statusCode).toBe(401);
    await client.close();
  });

  it('turns faults into ProviderErrors that name neither path nor number', async () => {
    const client = http();
    const path = '/ni/basic/json?number=447400123456';
    fake.set({ hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(
      client.request({ method: 'GET', path, headers: AUTH, budget: { signal: controller.signal } }),
    ).rejects.toMatchObject({
      code: 'timeout',
    });
    fake.set({ hang: false, body: 'x'.repeat(MAX_BODY_BYTES + 10) });
    await expect(
      client.request({ method: 'GET', path, headers: AUTH, budget: { signal: signal() } }),
    ).rejects.toMatchObject({
      code: 'invalid_response',
    });
    fake.reset();
    const refused = http('http://127.0.0.1:1');
    const error = await refused
      .request({ method: 'GET', path, headers: AUTH, budget: { signal: signal() } })
      .catch((e: Error) => e);
    expect(error).toMatchObject({
      code: 'network_error',
      message: /^Vonage request to 127\.0\.0\.1:1 failed: connection refused$/,
    });
    await refused.close();
    await client.close();
    await expect(
      client.request({ method: 'GET', path, headers: AUTH, budget: { signal: signal() } }),
    ).rejects.toMatchObject({ code: 'closed' });
  });
});

describe('loading', () => {
  it('import "ipmatch" and an offline check never load undici; building a remote provider does', () => {
    // A resolve hook in a child Node, so that what is loaded is what the runtime loads, not vitest's graph.
    const dir = mkdtempSync(join(tmpdir(), 'ipmatch-lazy-'));
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(
      hooks,
      `export async function resolve(s, c, next) { const r = await next(s, c); if (/[\\\\/]undici[\\\\/]/.test(r.url)) process.stderr.write('UNDICI\\n'); return r; }`,
    );
    const register = join(dir, 'register.mjs');
    writeFileSync(
      register,
      `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});`,
    );
    const src = (file: string) => JSON.stringify(pathToFileURL(join(process.cwd(), file)).href);
    const script = `
      const { createIpMatch, identityInsightsProvider } = await import(${src('src/index.ts')});
      const d = await createIpMatch().check({ phone: '+447400123456', ip: '81.2.69.160' });
      process.stderr.write('DECIDED ' + d.reason + '\\n');
      const { fakeKeyPair } = await import(${src('src/testing/fake-identity-insights.ts')});
      const p = identityInsightsProvider({ applicationId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', privateKey: (await fakeKeyPair()).privateKey });
      await new Promise((r) => setTimeout(r, 200));
      await p.close();
      process.stderr.write('CLOSED\\n');`;
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--import', register, '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    const lines = child.stderr.split('\n').filter((l) => /^(DECIDED|UNDICI|CLOSED)/.test(l));
    expect(lines[0]).toBe('DECIDED country_match');
    expect(lines.slice(1)).toContain('UNDICI');
    expect(lines.at(-1)).toBe('CLOSED');
  });
});
