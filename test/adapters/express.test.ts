import express, { type RequestHandler } from 'express';
import { ipMatch, type OnBlock } from 'ipmatch/express';
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

interface ExpressAppOptions {
  /** The app's 'trust proxy' setting. Default 'loopback': supertest's 127.0.0.1 plays the proxy. */
  trustProxy?: unknown;
  parser?: 'json' | 'forms' | 'none';
}

/** A signup app as a user writes it: trust the loopback proxy, parse JSON, ipMatch, a handler. */
function signupApp(
  routes: Record<string, RequestHandler>,
  { trustProxy = 'loopback', parser = 'json' }: ExpressAppOptions = {},
) {
  const app = express();
  app.set('trust proxy', trustProxy);
  if (parser !== 'none') app.use(express.json());
  if (parser === 'forms') app.use(express.urlencoded());
  for (const [path, middleware] of Object.entries(routes)) {
    app.post(path, middleware, (req, res) => {
      res.json({ ok: true, decision: req.ipMatch });
    });
  }
  return app;
}

const express5: AdapterHarness<express.Request, OnBlock, RequestHandler> = {
  name: 'Express 5',
  ipMatch,
  app: (routes, { proxy = true, parser } = {}) =>
    signupApp(routes, { trustProxy: proxy ? 'loopback' : false, parser }),
  decision: (req) => req.ipMatch,
  header: (req, name) => req.get(name),
  body: (req) => req.body,
  onBlock: (answer) => (req, res, decision) => {
    const { status, body } = answer(decision, req.ipMatch);
    res.status(status).json(body);
  },
  noParser: {
    names: ['express.json()', 'express.urlencoded()'],
    warning: /mount express\.json\(\) or express\.urlencoded\(\) before ipMatch/,
  },
  entryPoint: /ipmatch\/express/,
};

describeAdapter(express5);

describe('Express only', () => {
  const core = sharedCore();

  test('a form posted to an app that mounts only express.json() is a 415 for the client, with no server advice', async () => {
    const { logger, codes } = recorder();
    const app = signupApp({ '/signup': ipMatch({ logger }) });
    const res = await request(app)
      .post('/signup')
      .set('X-Forwarded-For', GB_IP)
      .type('form')
      .send(`phone=${encodeURIComponent(GB_PHONE)}`);
    expect(res.status).toBe(415);
    expect(res.body).toEqual({
      error: 'unsupported_content_type',
      message: 'Unsupported content type: the phone number cannot be read from a body of this type.',
    });
    // A parser is mounted, so nothing is the developer's to fix; and an empty POST is a plain missing phone.
    expect(codes()).toEqual([]);
    const empty = await request(app).post('/signup').set('X-Forwarded-For', GB_IP);
    expect([empty.status, empty.body.message]).toEqual([
      400,
      'Missing phone number: expected it at "phone" in the request body.',
    ]);
  });

  test('trust proxy true is forgeable, so it warns once', async () => {
    const { logger, codes } = recorder();
    const app = signupApp({ '/signup': ipMatch({ logger }) }, { trustProxy: true });
    await signup(app, GB_IP, { phone: GB_PHONE });
    await signup(app, GB_IP, { phone: GB_PHONE });
    expect(codes()).toEqual(['IPMATCH_TRUST_PROXY_ALL']);
  });

  test('a trust proxy set on the parent app applies to a mounted sub-app', async () => {
    const parent = express();
    parent.set('trust proxy', 'loopback');
    const sub = express();
    sub.use(express.json());
    sub.post('/signup', ipMatch(core), (req, res) => {
      res.json({ decision: req.ipMatch });
    });
    parent.use('/v1', sub);
    const res = await request(parent)
      .post('/v1/signup')
      .set('X-Forwarded-For', KR_IP)
      .send({ phone: GB_PHONE });
    expect(res.status).toBe(403);
  });

  test('req.ipMatch reads the decision without adding a property to the request', async () => {
    const app = express();
    app.set('trust proxy', 'loopback');
    app.post('/signup', express.json(), ipMatch(core), (req, res) => {
      res.json({ own: Object.hasOwn(req, 'ipMatch'), matchLevel: req.ipMatch?.matchLevel });
    });
    const res = await signup(app, GB_IP, { phone: GB_PHONE });
    expect(res.body).toEqual({ own: false, matchLevel: 'country' });
  });

  test('a decision made in a mounted sub-app is still req.ipMatch in the parent after it', async () => {
    const parent = express();
    parent.set('trust proxy', 'loopback');
    parent.use(express.json());
    const sub = express();
    sub.use(ipMatch(core, { policy: { mismatch: 'flag' } }));
    parent.use(sub);
    parent.post('/signup', (req, res) => {
      res.json({ matchLevel: req.ipMatch?.matchLevel, action: req.ipMatch?.action });
    });
    const res = await signup(parent, KR_IP, { phone: GB_PHONE });
    expect(res.body).toEqual({ matchLevel: 'mismatch', action: 'flag' });
  });

  test("a handler's own req.ipMatch assignment reads back, and a request without ipMatch has none", async () => {
    const app = signupApp({ '/signup': ipMatch(core) });
    app.post('/other', (req, res) => {
      const before = req.ipMatch;
      req.ipMatch = { note: 'set by hand' } as never;
      res.json({ before: before ?? null, after: req.ipMatch });
    });
    await signup(app, GB_IP, { phone: GB_PHONE });
    const res = await request(app).post('/other').send({});
    expect(res.body).toEqual({ before: null, after: { note: 'set by hand' } });
  });

  test('a request object made by hand (no Express app) gets req.ipMatch as its own property', async () => {
    const middleware = ipMatch(core);
    const req = {
      body: { phone: GB_PHONE },
      ip: GB_IP,
      method: 'POST',
      headers: {},
    } as never as express.Request;
    let called = false;
    await middleware(req, {} as express.Response, () => {
      called = true;
    });
    expect(called).toBe(true);
    expect(Object.hasOwn(req, 'ipMatch')).toBe(true);
    expect(req.ipMatch?.matchLevel).toBe('unknown');
  });

  test("a hand-made request with an app of its own follows that app's trust proxy", async () => {
    const app = express();
    app.set('trust proxy', 'loopback');
    const req = {
      app,
      body: { phone: GB_PHONE },
      ip: GB_IP,
      method: 'POST',
      headers: { 'x-forwarded-for': GB_IP },
      socket: { remoteAddress: '127.0.0.1' },
    } as never as express.Request;
    await ipMatch(core)(req, {} as express.Response, () => {});
    expect(Object.hasOwn(req, 'ipMatch')).toBe(true);
    expect(req.ipMatch).toMatchObject({ matchLevel: 'country', ip: { address: GB_IP, country: 'GB' } });
  });

  test('an async onBlock that rejects reaches the error handler', async () => {
    const app = signupApp({
      '/signup': ipMatch(core, {
        onBlock: async () => {
          throw new Error('challenge service down');
        },
      }),
    });
    app.use(((err, _req, res, _next) => {
      res.status(502).json({ handled: (err as Error).message });
    }) as express.ErrorRequestHandler);
    const res = await signup(app, KR_IP, { phone: GB_PHONE });
    expect(res.status).toBe(502);
    expect(res.body.handled).toBe('challenge service down');
  });
});
