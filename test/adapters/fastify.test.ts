import type { IncomingMessage, ServerResponse } from 'node:http';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { IpMatchConfigError } from 'ipmatch';
import { type IpMatchPreHandler, ipMatch, ipMatchPlugin, type OnBlock } from 'ipmatch/fastify';
import request from 'supertest';
import { afterAll, describe, expect, test, vi } from 'vitest';
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

interface FastifyAppOptions {
  /** Fastify's `trustProxy`. Default '127.0.0.1': supertest's loopback connection plays the proxy. */
  trustProxy?: boolean | string | number;
  parser?: 'json' | 'forms' | 'none';
}

const apps: FastifyInstance[] = [];
afterAll(() => Promise.all(apps.map((app) => app.close())));

/** A signup app as a user writes it: trust the proxy, parse JSON (forms with @fastify/formbody), ipMatch. */
function signupApp(
  routes: Record<string, IpMatchPreHandler>,
  { trustProxy = '127.0.0.1', parser = 'json' }: FastifyAppOptions = {},
) {
  // Fastify's types leave out the hop count that its trustProxy accepts.
  const app: FastifyInstance = Fastify({ trustProxy } as FastifyServerOptions);
  apps.push(app);
  if (parser === 'forms') app.register(formbody);
  if (parser === 'none') {
    // Fastify's documented catch-all that leaves the body unparsed (for streaming it elsewhere).
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  }
  for (const [path, preHandler] of Object.entries(routes)) {
    app.post(path, { preHandler }, async (req) => ({ ok: true, decision: req.ipMatch }));
  }
  return app;
}

/** Fastify's own request handler behind supertest's server, so that requests arrive over a real socket. */
function serve(app: FastifyInstance) {
  const ready = app.ready();
  return (req: IncomingMessage, res: ServerResponse) => {
    void ready.then(() => app.server.emit('request', req, res));
  };
}

const fastify5: AdapterHarness<FastifyRequest, OnBlock, IpMatchPreHandler> = {
  name: 'Fastify 5',
  ipMatch,
  app: (routes, { proxy = true, parser } = {}) =>
    serve(signupApp(routes, { trustProxy: proxy ? '127.0.0.1' : false, parser })),
  decision: (req) => req.ipMatch,
  header: (req, name) => req.headers[name] as string | undefined,
  body: (req) => req.body,
  onBlock: (answer) => (req, reply, decision) => {
    const { status, body } = answer(decision, req.ipMatch);
    reply.code(status).send(body);
  },
  noParser: {
    names: ['@fastify/formbody'],
    warning: /register @fastify\/formbody for forms\) before ipMatch/,
  },
  entryPoint: /ipmatch\/fastify/,
};

describeAdapter(fastify5);

describe('Fastify only', () => {
  const core = sharedCore();
  const json = (ip: string, phone = GB_PHONE) => ({
    method: 'POST' as const,
    url: '/signup',
    headers: { 'x-forwarded-for': ip },
    payload: { phone },
  });

  test('inject: a match reaches the handler, a mismatch is answered 403', async () => {
    const app = signupApp({ '/signup': ipMatch(core) });
    const match = await app.inject(json(GB_IP));
    expect(match.statusCode).toBe(200);
    expect(match.json().decision).toMatchObject({ reason: 'country_match', ip: { address: GB_IP } });
    const mismatch = await app.inject(json(KR_IP));
    expect(mismatch.statusCode).toBe(403);
    expect(mismatch.json()).toMatchObject({ error: 'ip_phone_mismatch', reason: 'country_mismatch' });
  });

  test('over its own listening socket', async () => {
    const app = signupApp({ '/signup': ipMatch(core) });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const post = (ip: string) =>
      fetch(`${url}/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: JSON.stringify({ phone: GB_PHONE }),
      });
    expect((await post(GB_IP)).status).toBe(200);
    expect((await post(KR_IP)).status).toBe(403);
  });

  test('ipMatchPlugin shares one core, decorates the request, and closes the core with Fastify', async () => {
    const decisions: string[] = [];
    const app = Fastify({ trustProxy: '127.0.0.1' });
    await app.register(ipMatchPlugin, {
      logger: recorder().logger,
      onDecision: (d) => decisions.push(d.action),
    });
    app.post('/signup', { preHandler: ipMatch(app.ipMatch) }, async (req) => ({ decision: req.ipMatch }));
    app.post(
      '/checkout',
      { preHandler: ipMatch(app.ipMatch, { policy: { mismatch: 'flag' } }) },
      async () => ({}),
    );
    expect((await app.inject(json(KR_IP))).statusCode).toBe(403);
    expect((await app.inject({ ...json(KR_IP), url: '/checkout' })).statusCode).toBe(200);
    expect(decisions).toEqual(['block', 'flag']);
    const close = vi.spyOn(app.ipMatch, 'close');
    await app.close();
    expect(close).toHaveBeenCalledTimes(1);
  });

  test('ipMatchPlugin validates its options when Fastify loads it', async () => {
    const app = Fastify();
    app.register(ipMatchPlugin, { timeoutMS: 100 } as never);
    await expect(app.ready()).rejects.toThrow(IpMatchConfigError);
    await expect(app.ready()).rejects.toThrow(/did you mean "timeoutMs"/);
  });

  test("trustProxy: true is forgeable, so it warns once; trusting your proxy's address does not", async () => {
    for (const [trustProxy, expected] of [
      [true, ['IPMATCH_TRUST_PROXY_ALL']],
      ['127.0.0.1', []],
      ['loopback', []],
    ] as const) {
      const { logger, codes } = recorder();
      const app = signupApp({ '/signup': ipMatch({ logger }) }, { trustProxy });
      // The client wrote GB_IP; the proxy appended the address it saw, KR_IP.
      const res = await app.inject(json(`${GB_IP}, ${KR_IP}`));
      expect(res.statusCode).toBe(trustProxy === true ? 200 : 403);
      await app.inject(json(GB_IP));
      expect(codes()).toEqual(expected);
    }
  });

  test('a request without a body is a 400 without the missing-parser warning', async () => {
    const { logger, codes } = recorder();
    const app = signupApp({ '/signup': ipMatch({ logger }) });
    const res = await app.inject({ method: 'POST', url: '/signup', headers: { 'x-forwarded-for': GB_IP } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_phone');
    expect(codes()).toEqual([]);
  });

  test('an async onBlock that rejects reaches the error handler', async () => {
    const app = signupApp({
      '/signup': ipMatch(core, {
        onBlock: async () => {
          throw new Error('challenge service down');
        },
      }),
    });
    app.setErrorHandler((err, _req, reply) => {
      reply.code(502).send({ handled: (err as Error).message });
    });
    const res = await signup(serve(app), KR_IP, { phone: GB_PHONE });
    expect(res.status).toBe(502);
    expect(res.body.handled).toBe('challenge service down');
  });

  test('when the check has to wait (an async option), the handler still runs once', async () => {
    let handled = 0;
    const app = Fastify();
    apps.push(app);
    app.post(
      '/signup',
      { preHandler: ipMatch(core, { phone: async (req) => (req.body as { phone: string }).phone }) },
      async () => {
        handled++;
        return { ok: true };
      },
    );
    const res = await app.inject({ method: 'POST', url: '/signup', payload: { phone: GB_PHONE } });
    expect(res.statusCode).toBe(200);
    expect(handled).toBe(1);
  });

  test('function options receive the Fastify request', async () => {
    const app = signupApp({
      '/signup': ipMatch(core, { phone: (req) => (req.query as { phone?: string }).phone }),
    });
    const res = await request(serve(app))
      .post(`/signup?phone=${encodeURIComponent(GB_PHONE)}`)
      .set('X-Forwarded-For', KR_IP);
    expect(res.status).toBe(403);
  });
});
