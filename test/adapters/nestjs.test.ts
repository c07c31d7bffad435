/** ipmatch/nestjs through real Nest applications on Express and on Fastify, as a Nest user writes them. */
import 'reflect-metadata';
import formbody from '@fastify/formbody';
import { type CanActivate, Controller, HttpCode, Injectable, Post, UseGuards } from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import express from 'express';
import Fastify from 'fastify';
import { ipMatch as expressIpMatch } from 'ipmatch/express';
import { ipMatch as fastifyIpMatch } from 'ipmatch/fastify';
import { IpMatchGuard, IpMatchModule } from 'ipmatch/nestjs';
import request from 'supertest';
import { describe, expect, test, vi } from 'vitest';
import { GB_IP, GB_PHONE, KR_IP, recorder, sharedCore } from '../helpers/adapter-suite.js';
import { nestApp, PLATFORMS, type Platform, post, quiet, SignupController } from '../helpers/nest-app.js';

/** The same route on the platform's own ipmatch adapter, for the answers Nest must repeat word for word. */
function ownAdapter(platform: Platform) {
  const core = sharedCore();
  if (platform === 'express') {
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(express.json(), express.urlencoded({ extended: false }));
    app.post('/signup', expressIpMatch(core), (_req, res) => void res.json({ ok: true }));
    return { server: app as Parameters<typeof request>[0], ready: Promise.resolve() };
  }
  const app = Fastify({ trustProxy: 'loopback' });
  void app.register(formbody);
  app.post('/signup', { preHandler: fastifyIpMatch(core) }, async () => ({ ok: true }));
  return { server: app.server as Parameters<typeof request>[0], ready: app.ready().then(() => undefined) };
}

describe.each(PLATFORMS)('ipmatch/nestjs on %s', (platform) => {
  test('the same country reaches the handler, with the decision as a parameter and on request.ipMatch', async () => {
    const app = await nestApp(platform, { imports: [quiet()], controllers: [SignupController] });
    const res = await post(app, '/signup', GB_IP, { phone: GB_PHONE });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      ok: true,
      onRequest: true,
      decision: { action: 'allow', reason: 'country_match', ip: { address: GB_IP } },
    });
  });

  test("blocks and bad phones answer the platform's own adapter's status and body, word for word", async () => {
    const app = await nestApp(platform, { imports: [quiet()], controllers: [SignupController] });
    const own = ownAdapter(platform);
    await own.ready;
    const cases: [string, object | string, string][] = [
      ['mismatch', { phone: GB_PHONE }, 'application/json'],
      ['missing phone', {}, 'application/json'],
      ['a number', { phone: 447400123456 }, 'application/json'],
      ['garbage', { phone: 'call me' }, 'application/json'],
      ['a form', `phone=${encodeURIComponent(GB_PHONE)}`, 'application/x-www-form-urlencoded'],
      ['text', `phone=${GB_PHONE}`, 'text/plain'],
    ];
    for (const [what, body, type] of cases) {
      const send = (server: Parameters<typeof request>[0]) =>
        request(server).post('/signup').set('X-Forwarded-For', KR_IP).type(type).send(body);
      const [nest, theirs] = [await send(app.getHttpServer()), await send(own.server)];
      expect(theirs.status, what).toBeGreaterThanOrEqual(400);
      expect({ status: nest.status, body: nest.body }, what).toEqual({
        status: theirs.status,
        body: theirs.body,
      });
    }
  });

  test("reads the client IP with the platform's proxy trust: without it, X-Forwarded-For is not believed", async () => {
    const { logger, codes, warn } = recorder();
    const app = await nestApp(
      platform,
      { imports: [IpMatchModule.forRoot({ logger })], controllers: [SignupController] },
      { proxy: false },
    );
    const res = await post(app, '/signup', KR_IP, { phone: GB_PHONE });
    expect(res.status).toBe(200);
    expect(res.body.decision).toMatchObject({ reason: 'ip_not_public', ip: { address: '127.0.0.1' } });
    expect(codes()).toEqual(['IPMATCH_XFF_UNTRUSTED']);
    // The fix, in the words of Nest on this platform.
    const [[message]] = warn.mock.calls as [[string]];
    expect(message).toContain(
      platform === 'express' ? "app.set('trust proxy'" : 'new FastifyAdapter({ trustProxy',
    );
  });

  test("a user's guard before IpMatchGuard decides first; one after it sees request.ipMatch", async () => {
    const seen = vi.fn();
    const onDecision = vi.fn();
    @Injectable()
    class ApiKey implements CanActivate {
      canActivate(context: import('@nestjs/common').ExecutionContext) {
        return context.switchToHttp().getRequest().headers['x-api-key'] === 'k';
      }
    }
    @Injectable()
    class After implements CanActivate {
      canActivate(context: import('@nestjs/common').ExecutionContext) {
        seen(context.switchToHttp().getRequest().ipMatch?.reason);
        return true;
      }
    }
    @Controller()
    class Guarded {
      @Post('signup')
      @HttpCode(200)
      @UseGuards(ApiKey, IpMatchGuard, After)
      signup() {
        return { ok: true };
      }
    }
    const module = IpMatchModule.forRoot({ logger: recorder().logger, onDecision });
    const app = await nestApp(platform, { imports: [module], controllers: [Guarded] });
    expect((await post(app, '/signup', KR_IP, { phone: GB_PHONE })).status).toBe(403);
    expect(onDecision).not.toHaveBeenCalled();
    const ok = await post(app, '/signup', GB_IP, { phone: GB_PHONE }).set('x-api-key', 'k');
    expect(ok.status).toBe(200);
    expect(onDecision).toHaveBeenCalledTimes(1);
    expect(seen).toHaveBeenCalledWith('country_match');
  });

  test('observe mode never answers by itself: a mismatch is flagged and a bad phone reaches the handler', async () => {
    const module = IpMatchModule.forRoot({ logger: recorder().logger, mode: 'observe' });
    const app = await nestApp(platform, { imports: [module], controllers: [SignupController] });
    const mismatch = await post(app, '/signup', KR_IP, { phone: GB_PHONE });
    expect(mismatch.status).toBe(200);
    expect(mismatch.body.decision).toMatchObject({ action: 'flag', policyAction: 'block' });
    const invalid = await post(app, '/signup', GB_IP, { phone: 'call me' });
    expect(invalid.status).toBe(200);
    expect(invalid.body.decision.reason).toBe('phone_invalid');
  });
});

test("Nest's Express platform without its body parser: the end user gets the 400, the developer one hint naming it", async () => {
  const { logger, codes, warn } = recorder();
  const ref = await Test.createTestingModule({
    imports: [IpMatchModule.forRoot({ logger })],
    controllers: [SignupController],
  }).compile();
  const app = ref.createNestApplication<NestExpressApplication>(new ExpressAdapter(), {
    logger: false,
    bodyParser: false,
  });
  app.set('trust proxy', 'loopback');
  await app.init();
  try {
    const res = await post(app, '/signup', GB_IP, { phone: GB_PHONE });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_phone',
      message: 'The phone number could not be read from the request body.',
    });
    expect(codes()).toEqual(['IPMATCH_NO_BODY_PARSER']);
    expect(warn.mock.calls[0]![0]).toContain("Nest's body parser");
  } finally {
    await app.close();
  }
});
