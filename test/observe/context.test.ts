import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import {
  combineDecisionHandlers,
  createIpMatch,
  type DecisionContext,
  IpMatchConfigError,
  type IpMatchDecision,
} from 'ipmatch';
import { ipMatch as expressIpMatch } from 'ipmatch/express';
import { ipMatch as fastifyIpMatch } from 'ipmatch/fastify';
import { ipMatch as fetchIpMatch } from 'ipmatch/fetch';
import { ipMatch as honoIpMatch } from 'ipmatch/hono';
import { ipMatch as koaIpMatch } from 'ipmatch/koa';
import Koa from 'koa';
import request from 'supertest';
import { describe, expect, test, vi } from 'vitest';
import { GB_PHONE, KR_IP, recorder } from '../helpers/adapter-suite.js';

type Seen = [IpMatchDecision, DecisionContext];

/** A core whose onDecision records what it receives. */
function watched() {
  const seen: Seen[] = [];
  const core = createIpMatch({
    mode: 'observe',
    logger: recorder().logger,
    onDecision: (decision, context) => {
      seen.push([decision, context]);
    },
  });
  return { core, seen, contexts: () => seen.map(([, c]) => ({ route: c.route, method: c.method })) };
}

const post = (app: Parameters<typeof request>[0], path: string) =>
  request(app).post(path).set('X-Forwarded-For', KR_IP).send({ phone: GB_PHONE });

describe("onDecision's context", () => {
  test('a direct check() has no route and no method, and a duration', async () => {
    const { core, seen } = watched();
    const decision = await core.check({ phone: GB_PHONE, ip: KR_IP });
    expect(seen).toHaveLength(1);
    expect(seen[0]![0]).toBe(decision);
    expect(seen[0]![1]).toEqual({ route: null, method: null, durationMs: expect.any(Number) });
    expect(seen[0]![1].durationMs).toBeGreaterThanOrEqual(0);
    await core.close();
  });

  test("Express: the matched route's pattern under its mount path, never the requested URL", async () => {
    const { core, contexts } = watched();
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(express.json());
    const api = express.Router();
    api.post('/users/:id/checkout', expressIpMatch(core), (_req, res) => void res.json({ ok: true }));
    app.use('/api', api);
    app.post('/signup', expressIpMatch(core), (_req, res) => void res.json({ ok: true }));
    app.put('/named/:id', expressIpMatch(core, { name: 'profile-update' }), (_req, res) => {
      res.json({ ok: true });
    });
    await post(app, '/api/users/42/checkout').expect(200);
    await post(app, '/signup').expect(200);
    await request(app).put('/named/7').set('X-Forwarded-For', KR_IP).send({ phone: GB_PHONE }).expect(200);
    expect(contexts()).toEqual([
      { route: '/api/users/:id/checkout', method: 'POST' },
      { route: '/signup', method: 'POST' },
      { route: 'profile-update', method: 'PUT' },
    ]);
    await core.close();
  });

  test('Express: mounted with app.use(), before any route matched, only the mount path is known', async () => {
    const { core, contexts } = watched();
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(express.json());
    app.use('/account', expressIpMatch(core));
    app.use(expressIpMatch(core));
    app.use((_req, res) => void res.json({ ok: true }));
    await post(app, '/account/signup').expect(200);
    expect(contexts()).toEqual([
      { route: '/account', method: 'POST' },
      { route: null, method: 'POST' },
    ]);
    await core.close();
  });

  test("Koa with @koa/router: the matched route's pattern, prefix included, or the route's name", async () => {
    const { core, contexts } = watched();
    const app = new Koa({ proxy: true, maxIpsCount: 1 });
    app.use(bodyParser());
    const router = new Router({ prefix: '/shop' });
    router.post('/orders/:id/pay', koaIpMatch(core), (ctx) => {
      ctx.body = { ok: true };
    });
    router.post('/signup', koaIpMatch(core, { name: 'signup' }), (ctx) => {
      ctx.body = { ok: true };
    });
    app.use(router.routes());
    app.use(koaIpMatch(core));
    app.use((ctx) => {
      ctx.body = { ok: true };
    });
    const server = app.callback();
    await post(server, '/shop/orders/9/pay').expect(200);
    await post(server, '/shop/signup').expect(200);
    await post(server, '/elsewhere').expect(200);
    expect(contexts()).toEqual([
      { route: '/shop/orders/:id/pay', method: 'POST' },
      { route: 'signup', method: 'POST' },
      { route: null, method: 'POST' },
    ]);
    await core.close();
  });

  test('Fastify: the route as registered, prefix included; or the name', async () => {
    const { core, contexts } = watched();
    const app = Fastify();
    await app.register(
      async (api) => {
        api.post(
          '/users/:id/checkout',
          { preHandler: fastifyIpMatch(core, { clientIp: 'x-client' }) },
          async () => ({ ok: true }),
        );
      },
      { prefix: '/api' },
    );
    app.post(
      '/signup',
      { preHandler: fastifyIpMatch(core, { clientIp: 'x-client', name: 'signup' }) },
      async () => ({ ok: true }),
    );
    const send = (url: string) =>
      app.inject({ method: 'POST', url, headers: { 'x-client': KR_IP }, payload: { phone: GB_PHONE } });
    expect((await send('/api/users/42/checkout')).statusCode).toBe(200);
    expect((await send('/signup')).statusCode).toBe(200);
    expect(contexts()).toEqual([
      { route: '/api/users/:id/checkout', method: 'POST' },
      { route: 'signup', method: 'POST' },
    ]);
    await app.close();
    await core.close();
  });

  test("Hono: the path the handler was registered with; fetch: the route's name or null", async () => {
    const { core, contexts } = watched();
    const app = new Hono();
    app.post('/users/:id/checkout', honoIpMatch(core, { clientIp: 'x-client' }), (c) => c.json({ ok: true }));
    const post = (url: string) =>
      new Request(url, {
        method: 'POST',
        headers: { 'x-client': KR_IP, 'content-type': 'application/json' },
        body: JSON.stringify({ phone: GB_PHONE }),
      });
    expect((await app.fetch(post('http://shop.test/users/42/checkout'))).status).toBe(200);
    await fetchIpMatch(core, { clientIp: 'x-client', name: 'edge-signup' })(post('http://shop.test/signup'));
    await fetchIpMatch(core, { clientIp: 'x-client' })(post('http://shop.test/signup'));
    expect(contexts()).toEqual([
      { route: '/users/:id/checkout', method: 'POST' },
      { route: 'edge-signup', method: 'POST' },
      { route: null, method: 'POST' },
    ]);
    await core.close();
  });

  test('a one-argument callback keeps working', async () => {
    const decisions: IpMatchDecision[] = [];
    const core = createIpMatch({ onDecision: (d) => decisions.push(d) });
    await core.check({ phone: GB_PHONE, ip: KR_IP });
    expect(decisions.map((d) => d.reason)).toEqual(['country_mismatch']);
    await core.close();
  });

  test('the route name is validated when the middleware is built', () => {
    expect(() => expressIpMatch({ name: '' })).toThrow(/name: expected a non-empty route name/);
    expect(() => expressIpMatch({ name: 42 as never })).toThrow(IpMatchConfigError);
  });
});

describe('several handlers', () => {
  test('an array runs each handler with the same decision and context', async () => {
    const a = vi.fn();
    const b = vi.fn();
    const core = createIpMatch({ onDecision: [a, b] });
    const decision = await core.check({ phone: GB_PHONE, ip: KR_IP });
    expect(a).toHaveBeenCalledWith(decision, expect.objectContaining({ route: null }));
    expect(b.mock.calls).toEqual(a.mock.calls);
    await core.close();
  });

  test('one that throws or rejects neither stops the others nor reaches the request; the core logs it', async () => {
    const { logger } = recorder();
    const after = vi.fn();
    const core = createIpMatch({
      logger,
      onDecision: combineDecisionHandlers(
        () => {
          throw new Error('metrics down');
        },
        async () => {
          throw new Error('rejected');
        },
        after,
      ),
    });
    const decision = await core.check({ phone: GB_PHONE, ip: KR_IP });
    expect(decision.reason).toBe('country_mismatch');
    expect(after).toHaveBeenCalledTimes(1);
    expect(logger.error).toHaveBeenCalledWith(
      'ipmatch: onDecision threw; the request went on',
      expect.objectContaining({ code: 'IPMATCH_ON_DECISION_THREW', error: 'metrics down' }),
    );
    await core.close();
  });

  test("the core's close() closes every handler that has a close()", async () => {
    const closed: string[] = [];
    const handler = (name: string) =>
      Object.assign(() => {}, {
        close: async () => {
          closed.push(name);
        },
      });
    const core = createIpMatch({ onDecision: [handler('log'), handler('metrics'), () => {}] });
    await core.close();
    expect(closed.sort()).toEqual(['log', 'metrics']);
  });

  test('combineDecisionHandlers refuses what is not a function, at construction', () => {
    expect(() => combineDecisionHandlers((() => {}) as never, 'log' as never)).toThrow(
      /handlers\[1\]: expected a function/,
    );
    expect(() => createIpMatch({ onDecision: [() => {}, 3 as never] })).toThrow(
      /onDecision\.1: expected a function/,
    );
  });
});
