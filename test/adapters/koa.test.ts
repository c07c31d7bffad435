import { createRequire } from 'node:module';
import { bodyParser } from '@koa/bodyparser';
import { type IpMatchMiddleware, ipMatch, type OnBlock } from 'ipmatch/koa';
import Koa from 'koa';
import request from 'supertest';
import { describe, expect, test } from 'vitest';
import {
  type AdapterHarness,
  describeAdapter,
  GB_IP,
  GB_PHONE,
  KR_IP,
  recorder,
  sharedCore,
  signup,
} from '../helpers/adapter-suite.js';

// Koa 2 is installed beside Koa 3 as the alias package `koa2`; it ships no types, and its API is Koa 3's here.
const require = createRequire(import.meta.url);
const Koa2 = require('koa2') as typeof Koa;

interface KoaAppOptions {
  Koa?: typeof Koa;
  /** app.proxy: trust X-Forwarded-For. Default true: supertest's 127.0.0.1 plays the proxy. */
  proxy?: boolean;
  /** How many X-Forwarded-For entries to trust, right to left. Default 1, the one proxy. */
  maxIpsCount?: number;
  parser?: boolean;
}

/**
 * A checkout app as a user writes it: behind one proxy, a body parser, ipMatch for each path in `routes`,
 * a handler that answers with what ipMatch decided.
 */
function checkoutApp(
  routes: Record<string, IpMatchMiddleware>,
  { Koa: App = Koa, proxy = true, maxIpsCount = 1, parser = true }: KoaAppOptions = {},
) {
  const app = new App({ proxy, maxIpsCount });
  app.silent = true;
  if (parser) app.use(bodyParser());
  app.use((ctx, next) => {
    const route = routes[ctx.path];
    return route ? route(ctx, next) : next();
  });
  app.use((ctx) => {
    ctx.body = { ok: true, decision: ctx.state.ipMatch };
  });
  return app;
}

/** The shared suite on one Koa major; @koa/bodyparser reads JSON and forms alike. */
const koaHarness = (
  name: string,
  App: typeof Koa,
): AdapterHarness<Koa.Context, OnBlock, IpMatchMiddleware> => ({
  name,
  ipMatch,
  app: (routes, { proxy = true, parser = 'json' } = {}) =>
    checkoutApp(routes, { Koa: App, proxy, parser: parser !== 'none' }).callback(),
  decision: (ctx) => ctx.state.ipMatch,
  header: (ctx, name) => ctx.get(name) || undefined,
  body: (ctx) => (ctx.request as { body?: unknown }).body,
  onBlock: (answer) => (ctx, decision) => {
    const { status, body } = answer(decision, ctx.state.ipMatch);
    ctx.status = status;
    ctx.body = body;
  },
  noParser: { names: ['@koa/bodyparser'], warning: /mount a Koa body parser .* before ipMatch/ },
  entryPoint: /ipmatch\/koa/,
});

describeAdapter(koaHarness('Koa 3', Koa));
describeAdapter(koaHarness('Koa 2', Koa2));

describe.each([
  ['Koa 3', Koa],
  ['Koa 2', Koa2],
] as const)('%s only', (_, App) => {
  test('a GET, which body parsers skip, is a 400 without the missing-parser warning', async () => {
    const { logger, codes } = recorder();
    const app = checkoutApp({ '/checkout': ipMatch({ logger }) }, { Koa: App });
    const res = await request(app.callback()).get('/checkout').set('X-Forwarded-For', GB_IP);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_phone');
    expect(codes()).toEqual([]);
  });

  test('a form posted to an app whose parser reads only JSON is a 415, with no warning', async () => {
    const { logger, codes } = recorder();
    const app = new App();
    app.use(bodyParser({ enableTypes: ['json'] }));
    app.use(ipMatch({ logger }));
    app.use((ctx) => {
      ctx.body = { ok: true };
    });
    const form = await request(app.callback()).post('/').type('form').send(`phone=${GB_PHONE}`);
    expect([form.status, form.body.error]).toEqual([415, 'unsupported_content_type']);
    const json = await request(app.callback()).post('/').send({});
    expect([json.status, json.body.error]).toEqual([400, 'invalid_phone']);
    expect(codes()).toEqual([]);
  });

  test('maxIpsCount 0 lets a client forge the left-most entry, so it warns once', async () => {
    const { logger, warn, codes } = recorder();
    const open = checkoutApp({ '/signup': ipMatch({ logger }) }, { Koa: App, maxIpsCount: 0 }).callback();
    // The client wrote GB_IP; the proxy appended the address it saw, KR_IP.
    const forged = await signup(open, `${GB_IP}, ${KR_IP}`, { phone: GB_PHONE });
    expect(forged.body.decision.ip.address).toBe(GB_IP);
    await signup(open, GB_IP, { phone: GB_PHONE });
    expect(codes()).toEqual(['IPMATCH_TRUST_PROXY_ALL']);
    expect(warn.mock.calls[0]?.[0]).toMatch(/left-most X-Forwarded-For.*set maxIpsCount/);

    const one = checkoutApp({ '/signup': ipMatch(sharedCore()) }, { Koa: App, maxIpsCount: 1 }).callback();
    const honest = await signup(one, `${GB_IP}, ${KR_IP}`, { phone: GB_PHONE });
    expect(honest.status).toBe(403);
  });

  test('an async onBlock that rejects reaches the error-handling middleware', async () => {
    const app = new App({ proxy: true, maxIpsCount: 1 });
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        ctx.status = 502;
        ctx.body = { handled: (err as Error).message };
      }
    });
    app.use(bodyParser());
    app.use(
      ipMatch(sharedCore(), {
        onBlock: async () => {
          throw new Error('challenge service down');
        },
      }),
    );
    const res = await signup(app.callback(), KR_IP, { phone: GB_PHONE });
    expect(res.status).toBe(502);
    expect(res.body.handled).toBe('challenge service down');
  });
});

test('the Koa 2 run really is on Koa 2', () => {
  expect((require('koa2/package.json') as { version: string }).version).toMatch(/^2\./);
  expect((require('koa/package.json') as { version: string }).version).toMatch(/^3\./);
});
