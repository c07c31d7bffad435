import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bodyParser } from '@koa/bodyparser';
import express from 'express';
import fc from 'fast-check';
import { createIpMatch, type IpMatch, type IpMatchDecision } from 'ipmatch';
import { ipMatch as expressIpMatch } from 'ipmatch/express';
import { IpMatchConfigError, ipMatch as koaIpMatch } from 'ipmatch/koa';
import Koa from 'koa';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeIp } from '../../src/core/ip.js';

/**
 * Hostile input through the real adapters, over real sockets on 127.0.0.1: arbitrary JSON and form bodies
 * (deep nesting, huge strings, prototype keys on the phone path) and arbitrary proxy headers. Whatever comes
 * in, the answer is a 2xx/4xx in bounded time, the phone comes only from the body's own keys, and the IP
 * only from a source the operator trusted.
 */
const GB_PHONE = '+447400123456';
const GB_IP = '81.2.69.160';
const KR_IP = '211.234.0.1';
const US_IPV6 = '2001:4860:4860::8888';
/** Per-request guard: a request that gets no answer within this is a hang, and fails the property. */
const HANG_MS = 5000;
const RUNS = Number(process.env.HOSTILE_RUNS ?? 150);

// ---------------------------------------------------------------------------------------------------------
// Servers: one per framework and trust setting, each answering with the decision (200, or 403 when blocked).

type ClientIpSetup = 'trust-off' | 'request-ip-untrusted' | 'request-ip-trusted' | 'framework-trusted';

interface Target {
  name: string;
  pool: Pool;
  server: Server;
}

const cores: IpMatch[] = [];
const targets: Target[] = [];
const warnings: string[] = [];
const logger = { warn: (m: string) => warnings.push(m), error: (m: string) => warnings.push(m) };

function core(): IpMatch {
  const c = createIpMatch({ logger });
  cores.push(c);
  return c;
}

function routeOptions(setup: ClientIpSetup) {
  if (setup === 'request-ip-untrusted')
    return { clientIp: 'request-ip' as const, trustedProxies: ['10.0.0.0/8'] };
  if (setup === 'request-ip-trusted')
    return { clientIp: 'request-ip' as const, trustedProxies: ['loopback'] };
  return {};
}

function expressApp(setup: ClientIpSetup, phone = 'user.phone'): express.Express {
  const app = express();
  if (setup === 'framework-trusted') app.set('trust proxy', 'loopback');
  app.use(express.json(), express.urlencoded({ extended: true }));
  const onBlock = (_req: express.Request, res: express.Response, d: IpMatchDecision) => {
    res.status(403).json(d);
  };
  app.post('/signup', expressIpMatch(core(), { phone, onBlock, ...routeOptions(setup) }), (req, res) => {
    res.json(req.ipMatch);
  });
  return app;
}

function koaApp(setup: ClientIpSetup, phone = 'user.phone'): Koa {
  const app = new Koa({ proxy: setup === 'framework-trusted', maxIpsCount: 1 });
  app.silent = true;
  app.use(bodyParser());
  const onBlock = (ctx: Koa.Context, d: IpMatchDecision) => {
    ctx.status = 403;
    ctx.body = d;
  };
  const check = koaIpMatch(core(), { phone, onBlock, ...routeOptions(setup) });
  app.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== '/signup') return next();
    await check(ctx, async () => {
      ctx.body = ctx.state.ipMatch;
    });
  });
  return app;
}

async function listen(name: string, handler: RequestListener): Promise<Target> {
  const server = createServer(handler).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const pool = new Pool(`http://127.0.0.1:${port}`, {
    connections: 4,
    headersTimeout: HANG_MS,
    bodyTimeout: HANG_MS,
  });
  const target = { name, pool, server };
  targets.push(target);
  return target;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  ms: number;
}

async function post(target: Target, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const started = performance.now();
  const res = await target.pool.request({
    method: 'POST',
    path: '/signup',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.body.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.statusCode, body: parsed, ms: performance.now() - started };
}

const FRAMEWORKS = ['express', 'koa'] as const;
const SETUPS: ClientIpSetup[] = [
  'trust-off',
  'request-ip-untrusted',
  'request-ip-trusted',
  'framework-trusted',
];
const servers = new Map<string, Target>();
const target = (framework: (typeof FRAMEWORKS)[number], setup: ClientIpSetup) =>
  servers.get(`${framework} ${setup}`)!;

const prototypeNames = (o: object) => Object.getOwnPropertyNames(o).sort();
const before = {
  object: prototypeNames(Object.prototype),
  array: prototypeNames(Array.prototype),
  fn: prototypeNames(Function.prototype),
};

beforeAll(async () => {
  for (const setup of SETUPS) {
    servers.set(`express ${setup}`, await listen(`express ${setup}`, expressApp(setup)));
    servers.set(`koa ${setup}`, await listen(`koa ${setup}`, koaApp(setup).callback() as RequestListener));
  }
});

afterAll(async () => {
  await Promise.all(targets.map((t) => t.pool.close()));
  for (const t of targets) t.server.closeAllConnections();
  await Promise.all(targets.map((t) => new Promise((r) => t.server.close(r))));
  await Promise.all(cores.map((c) => c.close()));
});

// ---------------------------------------------------------------------------------------------------------
// Arbitraries. JSON is written as text, so that keys such as "__proto__" reach the body parser verbatim
// (building objects in JS and stringifying them would set prototypes instead of keys).

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];
const key = fc.oneof(
  fc.constantFrom(...PROTO_KEYS, 'phone', 'user', 'toString', 'hasOwnProperty', 'valueOf', '0', ''),
  fc.string({ maxLength: 8 }),
);
const phoneLike = fc.oneof(
  fc.constantFrom(GB_PHONE, '+14155550123', '+33612345678', '07400 123456', '+800 1234 5678', '+', ''),
  fc.stringMatching(/^\+?[0-9 ()-]{0,40}$/),
  fc.string({ maxLength: 30 }),
);
const leaf = fc.oneof(
  phoneLike.map((s) => JSON.stringify(s)),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom('null', 'true', 'false', '{}', '[]'),
);
const { json } = fc.letrec<{ json: string; array: string; object: string }>((tie) => ({
  json: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('json'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
  object: fc
    .array(fc.tuple(key, tie('json')), { maxLength: 5 })
    .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
}));
/** A body whose own user.phone is set, among hostile siblings: the phone must be found here. */
const withPhone = fc
  .tuple(phoneLike, key, json, key, json)
  .map(
    ([phone, k1, v1, k2, v2]) =>
      `{${JSON.stringify(k2)}:${v2},"user":{${JSON.stringify(k1)}:${v1},"phone":${JSON.stringify(phone)}}}`,
  );
/** A body with a real phone planted under prototype keys, where only a walk of inherited keys would find it. */
const planted = fc
  .tuple(fc.constantFrom(...PROTO_KEYS), fc.constantFrom(...PROTO_KEYS, 'user'), fc.constantFrom('user', 'x'))
  .map(([a, b, c]) => [
    `{"${a}":{"phone":"${GB_PHONE}"}}`,
    `{"${a}":{"user":{"phone":"${GB_PHONE}"}}}`,
    `{"user":{"${a}":{"phone":"${GB_PHONE}"}}}`,
    `{"${c}":{},"${a}":{"${b}":{"phone":"${GB_PHONE}"}}}`,
  ]);

/** What the dot path 'user.phone' reads in `text`, walking own keys only: the oracle for the adapters. */
function ownUserPhone(text: string): unknown {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const own = (v: unknown, k: string) =>
    typeof v === 'object' && v !== null && Object.hasOwn(v, k)
      ? (v as Record<string, unknown>)[k]
      : undefined;
  return own(own(body, 'user'), 'phone');
}

/** A user's answer is a client error or a decision; never a server error, never slow. */
function expectSane(a: Answer): void {
  expect([200, 400, 403, 413, 415]).toContain(a.status);
  expect(a.ms).toBeLessThan(HANG_MS);
}

// ---------------------------------------------------------------------------------------------------------

describe.each(FRAMEWORKS)('hostile bodies through %s', (framework) => {
  const t = () => target(framework, 'trust-off');

  it('any JSON body gets 200, 400 or 403 in bounded time, and the phone is read from own keys only', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(json, withPhone), async (text) => {
        const a = await post(t(), text);
        expectSane(a);
        const phone = ownUserPhone(text);
        if (a.status === 200 || a.status === 403) {
          // A decision on a phone: only ever the body's own user.phone.
          expect(typeof phone).toBe('string');
          expect((a.body.phone as { number: string }).number).toMatch(/^\+\d+$/);
        } else {
          expect(a.status).toBe(400);
          // No own user.phone string, or not a phone: ipmatch's 400 (or the parser's, for what it refuses).
          if (a.body.error !== undefined) expect(a.body.error).toBe('invalid_phone');
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('a phone planted under __proto__, constructor or prototype is never found', async () => {
    await fc.assert(
      fc.asyncProperty(planted, async (bodies) => {
        for (const text of bodies) {
          const a = await post(t(), text);
          expect(a.status).toBe(400);
          // Koa's parser (co-body) refuses "__proto__" keys by itself; otherwise ipmatch finds no phone.
          const refusedByParser = framework === 'koa' && text.includes('__proto__');
          if (!refusedByParser) {
            expect(a.body).toMatchObject({ error: 'invalid_phone' });
            expect(String(a.body.message)).toMatch(/Missing phone number/);
          }
        }
      }),
      { numRuns: 20 },
    );
  });

  it('form bodies with prototype keys find no phone either', async () => {
    for (const form of [
      `__proto__[phone]=${encodeURIComponent(GB_PHONE)}`,
      `user[__proto__][phone]=${encodeURIComponent(GB_PHONE)}`,
      `constructor[prototype][phone]=${encodeURIComponent(GB_PHONE)}`,
      `__proto__[user][phone]=${encodeURIComponent(GB_PHONE)}`,
    ]) {
      const a = await post(t(), form, { 'content-type': 'application/x-www-form-urlencoded' });
      expect(a.status, form).toBe(400);
      expect(a.body).toMatchObject({ error: 'invalid_phone' });
    }
    const good = await post(t(), `user[phone]=${encodeURIComponent(GB_PHONE)}`, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(good.status).toBe(200);
  });

  it('deep nesting, in objects and arrays, is a 400 (or 413 past the size limit), never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 20_000 }), fc.boolean(), async (depth, arrays) => {
        const text = arrays
          ? `{"user":${'['.repeat(depth)}"${GB_PHONE}"${']'.repeat(depth)}}`
          : `{"user":${'{"user":'.repeat(depth)}{"phone":"${GB_PHONE}"}${'}'.repeat(depth)}}`;
        const a = await post(t(), text);
        expectSane(a);
        expect([400, 413]).toContain(a.status);
      }),
      { numRuns: 30 },
    );
  });

  it('huge strings, as the phone or beside it, are a quick 400 (or 413 past the size limit)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1000, max: 200_000 }),
        fc.constantFrom('9', 'a', '+', ' ', '\u00e9', '\u{1F4DE}'),
        async (length, unit) => {
          const huge = unit.repeat(length);
          for (const text of [
            JSON.stringify({ user: { phone: huge } }),
            JSON.stringify({ user: { phone: `+44${huge}` } }),
            JSON.stringify({ [huge]: GB_PHONE, user: { note: huge } }),
          ]) {
            const a = await post(t(), text);
            expectSane(a);
            expect([400, 413]).toContain(a.status);
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('the phone of any type other than a string is a 400', async () => {
    for (const phone of [
      '[]',
      '{}',
      `["${GB_PHONE}"]`,
      `{"number":"${GB_PHONE}"}`,
      '447400123456',
      'true',
      'null',
    ]) {
      const a = await post(t(), `{"user":{"phone":${phone}}}`);
      expect(a.status, phone).toBe(400);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Proxy headers.

const HEADER_CHARS = fc.constantFrom(...'0123456789abcdefABCDEF.:,; =[]"_-/ forwardedForBy\t'.split(''));
/** Real public addresses, private ones, and text that only looks like an address. */
const address = fc.oneof(
  fc.constantFrom(GB_IP, KR_IP, US_IPV6, '8.8.8.8', '127.0.0.1', '10.0.0.1', '::1', '::ffff:81.2.69.160'),
  fc.ipV4(),
  fc.ipV6(),
  fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 })).map(([ip, port]) => `${ip}:${port}`),
  fc.ipV6().map((ip) => `[${ip}]:443`),
  fc.string({ unit: HEADER_CHARS, maxLength: 40 }),
);
const headerValue = fc.oneof(
  fc.array(address, { minLength: 1, maxLength: 6 }).map((list) => list.join(', ')),
  fc.array(address, { minLength: 1, maxLength: 3 }).map((list) => list.map((a) => `for="${a}"`).join(', ')),
  fc.string({ unit: HEADER_CHARS, maxLength: 200 }),
  // Long, but within Node's 16 kB of headers for all four together.
  fc.integer({ min: 50, max: 250 }).map((n) => `${GB_IP}, `.repeat(n).slice(0, -2)),
);
const proxyHeaders = fc.record(
  {
    'x-forwarded-for': headerValue,
    'x-client-ip': headerValue,
    'x-real-ip': headerValue,
    forwarded: headerValue,
  },
  { requiredKeys: [] },
);

/**
 * Every address that appears in the headers, in the core's canonical form: the only ones a trusted proxy said.
 * Tokens are split on the separators of all four headers, and `a.b.c.d:port` also counts as `a.b.c.d`.
 */
function saidByHeaders(headers: Record<string, string>): Set<string> {
  const said = new Set<string>();
  for (const value of Object.values(headers)) {
    for (const token of value.split(/[\s,;="[\]]+/)) {
      for (const candidate of [token, token.split(':')[0] ?? '']) {
        const { address } = normalizeIp(candidate);
        if (address !== null) said.add(address);
      }
    }
  }
  return said;
}

describe.each(FRAMEWORKS)('hostile proxy headers through %s', (framework) => {
  const body = JSON.stringify({ user: { phone: GB_PHONE } });

  it.each([
    ['with proxy trust off', 'trust-off'],
    ["with clientIp: 'request-ip' and a peer outside trustedProxies", 'request-ip-untrusted'],
  ] as const)('%s, the socket peer decides, whatever the headers say', async (_what, setup) => {
    await fc.assert(
      fc.asyncProperty(proxyHeaders, async (headers) => {
        const a = await post(target(framework, setup), body, headers);
        expectSane(a);
        expect(a.status).toBe(200);
        expect(a.body).toMatchObject({
          reason: 'ip_not_public',
          ip: { address: '127.0.0.1', country: null },
        });
      }),
      { numRuns: RUNS },
    );
  });

  it.each([
    ["with clientIp: 'request-ip' and a trusted peer", 'request-ip-trusted'],
    ["with the framework's proxy trust on", 'framework-trusted'],
  ] as const)(
    '%s, the IP is one the headers gave, or the peer, never anything else',
    async (_what, setup) => {
      await fc.assert(
        fc.asyncProperty(proxyHeaders, async (headers) => {
          const a = await post(target(framework, setup), body, headers);
          expectSane(a);
          expect([200, 403]).toContain(a.status);
          const got = (a.body.ip as { address: string | null }).address;
          if (got !== null && got !== '127.0.0.1') expect(saidByHeaders(headers)).toContain(got);
        }),
        { numRuns: RUNS },
      );
    },
  );

  it.each([
    ["clientIp: 'request-ip' and a trusted peer", 'request-ip-trusted'],
    ["the framework's proxy trust", 'framework-trusted'],
  ] as const)('with %s, a single X-Forwarded-For address is used', async (_what, setup) => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(GB_IP, KR_IP, US_IPV6, '8.8.8.8'), async (ip) => {
        const a = await post(target(framework, setup), body, { 'x-forwarded-for': ip });
        expect(a.body).toMatchObject({ ip: { address: ip } });
        expect(a.status).toBe(ip === GB_IP ? 200 : 403);
      }),
      { numRuns: 8 },
    );
  });
});

describe('the phone path', () => {
  it('refuses prototype keys when the middleware is built', () => {
    for (const phone of ['__proto__.phone', 'user.constructor', 'prototype', 'user.__proto__.phone']) {
      expect(() => expressIpMatch({ phone }), phone).toThrow(IpMatchConfigError);
      expect(() => koaIpMatch({ phone }), phone).toThrow(IpMatchConfigError);
    }
  });
});

describe('after all of it', () => {
  it('no prototype was polluted', async () => {
    // Runs last in this file: every request above has been answered.
    expect(prototypeNames(Object.prototype)).toEqual(before.object);
    expect(prototypeNames(Array.prototype)).toEqual(before.array);
    expect(prototypeNames(Function.prototype)).toEqual(before.fn);
    const probe = {} as Record<string, unknown>;
    for (const k of ['phone', 'user', 'polluted', 'number']) expect(probe[k]).toBeUndefined();
  });
});
