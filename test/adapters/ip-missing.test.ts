import { serve } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';
import { createIpMatch } from 'ipmatch';
import { type RouteOptions as ExpressRouteOptions, ipMatch as expressIpMatch } from 'ipmatch/express';
import { ipMatch as fetchIpMatch } from 'ipmatch/fetch';
import { ipMatch as honoIpMatch } from 'ipmatch/hono';
import request from 'supertest';
import { afterAll, describe, expect, test } from 'vitest';
import { GB_IP, GB_PHONE, recorder } from '../helpers/adapter-suite.js';

/** An Express app whose client IP comes from a header its platform is said to set. */
function expressApp(route: ExpressRouteOptions, core = createIpMatch({ logger: recorder().logger })) {
  const app = express();
  app.use(express.json());
  app.post('/signup', expressIpMatch(core, route), (req, res) => {
    res.json({ decision: req.ipMatch });
  });
  return app;
}

describe('ip_missing: a route that reads the client IP from a header got none', () => {
  test('is flagged by default, beside ip_not_public, and warned about once', async () => {
    const { logger, codes } = recorder();
    const app = expressApp({ clientIp: 'cf-connecting-ip' }, createIpMatch({ logger }));
    for (let i = 0; i < 2; i++) {
      const res = await request(app).post('/signup').send({ phone: GB_PHONE });
      expect(res.status).toBe(200);
      expect(res.body.decision).toMatchObject({
        action: 'flag',
        policyAction: 'flag',
        matchLevel: 'unknown',
        reason: 'ip_not_public',
        ip: { address: null },
        signals: ['ip_missing'],
      });
    }
    expect(codes()).toEqual(['IPMATCH_CLIENT_IP_HEADER_MISSING']);
  });

  test('with the header there is no such signal', async () => {
    const res = await request(expressApp({ clientIp: 'cf-connecting-ip', trustedProxies: ['loopback'] }))
      .post('/signup')
      .set('CF-Connecting-IP', GB_IP)
      .send({ phone: GB_PHONE });
    expect(res.body.decision).toMatchObject({ action: 'allow', reason: 'country_match', signals: [] });
  });

  test('a private address the framework gives is ip_not_public alone: no header was trusted', async () => {
    const res = await request(expressApp({})).post('/signup').send({ phone: GB_PHONE });
    expect(res.body.decision).toMatchObject({ action: 'allow', reason: 'ip_not_public', signals: [] });
  });

  test("blocked by a route's policy map: a 403 whose error names the signal", async () => {
    const app = expressApp({ clientIp: 'x-real-ip', policy: { ip_missing: 'block' } });
    const res = await request(app).post('/signup').send({ phone: GB_PHONE });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      error: 'ip_missing',
      message: expect.stringMatching(/network address/),
      matchLevel: 'unknown',
      reason: 'ip_not_public',
    });
  });

  test('observe mode lets it through, saying what the policy wanted', async () => {
    const app = expressApp({ clientIp: 'x-real-ip', policy: { ip_missing: 'block' }, mode: 'observe' });
    const res = await request(app).post('/signup').send({ phone: GB_PHONE });
    expect(res.status).toBe(200);
    expect(res.body.decision).toMatchObject({
      action: 'flag',
      policyAction: 'block',
      signals: ['ip_missing'],
    });
  });

  test('a policy function sees it with the rest of the result', async () => {
    const seen: string[][] = [];
    const app = expressApp({
      clientIp: 'x-real-ip',
      policy: (r) => {
        seen.push(r.signals);
        return r.signals.includes('ip_missing') ? 'block' : 'allow';
      },
    });
    expect((await request(app).post('/signup').send({ phone: GB_PHONE })).status).toBe(403);
    expect(seen[0]).toEqual(['ip_missing']);
  });

  test("'request-ip' behind a proxy that wrote no address (X-Forwarded-For: unknown)", async () => {
    const app = expressApp({ clientIp: 'request-ip', trustedProxies: ['loopback'] });
    const res = await request(app)
      .post('/signup')
      .set('X-Forwarded-For', 'unknown')
      .send({ phone: GB_PHONE });
    expect(res.body.decision).toMatchObject({ reason: 'ip_not_public', signals: ['ip_missing'] });
  });

  test('an invalid phone still gets its 400, with the signal on the decision', async () => {
    const res = await request(expressApp({ clientIp: 'x-real-ip' }))
      .post('/signup')
      .send({ phone: 'nope' });
    expect(res.status).toBe(400);
  });

  describe('on the README samples run off their platform', () => {
    const servers: { close(): void }[] = [];
    afterAll(() => {
      for (const s of servers) s.close();
    });

    test("Hono on @hono/node-server with clientIp: 'cf-connecting-ip' and no Cloudflare in front", async () => {
      const { logger, codes } = recorder();
      const app = new Hono();
      app.post('/signup', honoIpMatch({ logger, clientIp: 'cf-connecting-ip' }), (c) =>
        c.json({ decision: c.get('ipMatch') }),
      );
      const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
      servers.push(server);
      await new Promise((resolve) => server.once('listening', resolve));
      const without = await request(server).post('/signup').send({ phone: GB_PHONE });
      expect(without.body.decision).toMatchObject({ action: 'flag', signals: ['ip_missing'] });
      // Anyone can send the header to this server: it is still read, and the operator told once.
      const forged = await request(server)
        .post('/signup')
        .set('CF-Connecting-IP', GB_IP)
        .send({ phone: GB_PHONE });
      expect(forged.body.decision.ip.address).toBe(GB_IP);
      expect(codes()).toEqual([
        'IPMATCH_CLIENT_IP_HEADER_MISSING',
        'IPMATCH_CLIENT_IP_HEADER_UNTRUSTED_PEER',
      ]);
    });

    test("fetch with clientIp: 'x-real-ip' and no header", async () => {
      const { logger, codes } = recorder();
      const guard = fetchIpMatch({ logger, clientIp: 'x-real-ip' });
      const { decision } = await guard(
        new Request('http://127.0.0.1/signup', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ phone: GB_PHONE }),
        }),
      );
      expect(decision).toMatchObject({ action: 'flag', reason: 'ip_not_public', signals: ['ip_missing'] });
      expect(codes()).toEqual(['IPMATCH_CLIENT_IP_HEADER_MISSING']);
    });
  });
});
