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
