import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { cloneRawRequest } from 'hono/request';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ipMatch, type OnBlock } from 'ipmatch/hono';
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

/** POSTs `body` in 64 KiB chunks with no Content-Length, as a streaming client does, to a listening copy of `listener`. */
async function postChunked(
  listener: RequestListener,
  body: string,
): Promise<{ status: number; body: string }> {
  const server = createServer(listener).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  try {
    const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/signup' });
    req.setHeader('content-type', 'application/json');
    for (let at = 0; at < body.length; at += 65_536) req.write(body.slice(at, at + 65_536));
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    let text = '';
    for await (const chunk of res) text += chunk;
    return { status: res.statusCode ?? 0, body: text };
  } finally {
    server.close();
  }
}

/** A signup app as a user writes it: ipMatch for each path in `routes`, then a handler. */
function signupApp(routes: Record<string, MiddlewareHandler>) {
  const app = new Hono();
  for (const [path, middleware] of Object.entries(routes)) {
    app.post(path, middleware, (c) => c.json({ ok: true, decision: c.get('ipMatch') }));
  }
  return app;
}

/**
 * A load balancer in front that hands the client's address over as the connection's peer (PROXY protocol)
 * instead of in X-Forwarded-For: Hono has no proxy setting of its own, so this is how it sees a trusted proxy.
 */
function viaProxy(request: Request, env: HttpBindings): [Request, HttpBindings] {
  const forwarded = request.headers.get('x-forwarded-for');
  if (forwarded === null) return [request, env];
  const headers = new Headers(request.headers);
  headers.delete('x-forwarded-for');
  const { 'x-forwarded-for': _, ...rest } = env.incoming.headers;
  const incoming = { headers: rest, socket: { remoteAddress: forwarded } } as unknown as IncomingMessage;
  return [new Request(request, { headers }), { ...env, incoming }];
}

/** The app on @hono/node-server's request listener, as `serve(app)` runs it. */
const listen = (app: Hono, proxy = false) =>
  getRequestListener((req, env) => {
    const bindings = env as HttpBindings;
    return proxy ? app.fetch(...viaProxy(req, bindings)) : app.fetch(req, bindings);
  });

const hono4: AdapterHarness<Context, OnBlock, MiddlewareHandler> = {
  name: 'Hono 4 on @hono/node-server',
  ipMatch,
  app: (routes, { proxy = true } = {}) => listen(signupApp(routes), proxy),
  decision: (c) => c.get('ipMatch'),
  header: (c, name) => c.req.header(name),
  body: (c) => c.req.json(),
  onBlock: (answer) => (c, decision) => {
    const { status, body } = answer(decision, c.get('ipMatch'));
    return c.json(body, status as ContentfulStatusCode);
  },
  noParser: null,
  proxySetting: false,
  entryPoint: /ipmatch\/hono/,
};

describeAdapter(hono4);

describe('Hono only', () => {
  const core = sharedCore();
  const post = (app: Hono, body: string, type: string, ip = '') =>
    app.request('/signup', {
      method: 'POST',
      body,
      headers: { 'content-type': type, 'cf-connecting-ip': ip },
    });

  test('the handler reads the body ipMatch read from Hono’s cache, as after Hono’s validator', async () => {
    const app = new Hono();
    app.post('/signup', ipMatch(core), async (c) => {
      const json = await c.req.json();
      return c.json({ json, again: await c.req.text(), decision: c.get('ipMatch')?.reason });
    });
    app.post('/form', ipMatch(core), async (c) => c.json({ form: await c.req.parseBody() }));
    app.post('/forward', ipMatch(core), async (c) => c.json(await (await cloneRawRequest(c.req)).json()));
    const server = listen(app, false);
    const body = { phone: GB_PHONE, name: 'Ada' };
    const res = await request(server).post('/signup').send(body);
    expect(res.body).toEqual({ json: body, again: JSON.stringify(body), decision: 'ip_not_public' });
    const form = await request(server).post('/form').type('form').send(body);
    expect(form.body).toEqual({ form: body });
    expect((await request(server).post('/forward').send(body)).body).toEqual(body);
  });

  test('a body of unknown length is read from a clone, and the raw request stays readable', async () => {
    const app = new Hono();
    app.post('/raw', ipMatch(core, { clientIp: 'cf-connecting-ip' }), async (c) =>
      c.json({ raw: await c.req.raw.json(), decision: c.get('ipMatch')?.reason }),
    );
    // A Request built in process, as app.request() and fetch() build it, declares no Content-Length.
    const raw = await app.request('/raw', {
      method: 'POST',
      body: JSON.stringify({ phone: GB_PHONE, name: 'Ada' }),
      headers: { 'content-type': 'application/json', 'cf-connecting-ip': GB_IP },
    });
    expect(await raw.json()).toEqual({ raw: { phone: GB_PHONE, name: 'Ada' }, decision: 'country_match' });
  });

  test('over a socket, a body over 1 MiB is a 413 whether its length is declared or chunked', async () => {
    const server = listen(signupApp({ '/signup': ipMatch(core) }), false);
    const big = JSON.stringify({ phone: GB_PHONE, pad: 'x'.repeat(1_100_000) });
    const tooLarge = {
      error: 'body_too_large',
      message: 'The request body is too large: at most 1 MiB is read.',
    };
    const declared = await request(server).post('/signup').type('json').send(big);
    expect([declared.status, declared.body]).toEqual([413, tooLarge]);
    const chunked = await postChunked(server, big);
    expect([chunked.status, JSON.parse(chunked.body)]).toEqual([413, tooLarge]);
  });

  test('a body a validator already read comes from Hono’s cache', async () => {
    const app = new Hono();
    const validate: MiddlewareHandler = async (c, next) => {
      await c.req.json();
      await next();
    };
    app.post('/signup', validate, ipMatch(core, { clientIp: 'cf-connecting-ip' }), (c) => c.text('ok', 201));
    expect((await post(app, JSON.stringify({ phone: GB_PHONE }), 'application/json', KR_IP)).status).toBe(
      403,
    );
  });

  test('multipart forms, and a body over 1 MiB is a 413, never a crash', async () => {
    const app = signupApp({ '/signup': ipMatch(core, { clientIp: 'cf-connecting-ip' }) });
    const form = new FormData();
    form.set('phone', GB_PHONE);
    form.set('avatar', new Blob(['x'.repeat(1000)]), 'me.png');
    const multipart = await app.request('/signup', {
      method: 'POST',
      body: form,
      headers: { 'cf-connecting-ip': KR_IP },
    });
    expect(multipart.status).toBe(403);
    const huge = await post(
      app,
      JSON.stringify({ phone: GB_PHONE, pad: 'x'.repeat(1_100_000) }),
      'application/json',
      GB_IP,
    );
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: string }).error).toBe('body_too_large');
  });

  test('with no connection peer (Workers), it warns once to name the platform header', async () => {
    const { logger, codes, warn } = recorder();
    const app = signupApp({ '/signup': ipMatch({ logger }) });
    for (let i = 0; i < 2; i++) {
      const res = await post(app, JSON.stringify({ phone: GB_PHONE }), 'application/json', KR_IP);
      expect(((await res.json()) as { decision: { reason: string } }).decision.reason).toBe('ip_not_public');
    }
    expect(codes()).toEqual(['IPMATCH_NO_PEER']);
    expect(warn.mock.calls[0]?.[0]).toMatch(/clientIp: .*'cf-connecting-ip'/);
  });

  test('clientIp: a header takes its right-most entry, the one the nearest proxy wrote', async () => {
    const app = signupApp({ '/signup': ipMatch(core, { clientIp: 'x-forwarded-for' }) });
    const res = await app.request('/signup', {
      method: 'POST',
      body: JSON.stringify({ phone: GB_PHONE }),
      headers: { 'content-type': 'application/json', 'x-forwarded-for': `${GB_IP}, ${KR_IP}` },
    });
    expect(res.status).toBe(403);
  });

  test('over a real socket, without a proxy, the peer is the client', async () => {
    const res = await signup(listen(signupApp({ '/signup': ipMatch(core) })), GB_IP, { phone: GB_PHONE });
    expect(res.body.decision.ip.address).toMatch(/127\.0\.0\.1$/);
    const trusted = listen(
      signupApp({ '/signup': ipMatch(core, { clientIp: 'request-ip', trustedProxies: ['loopback'] }) }),
    );
    expect(
      (await request(trusted).post('/signup').set('X-Forwarded-For', KR_IP).send({ phone: GB_PHONE })).status,
    ).toBe(403);
  });
});
