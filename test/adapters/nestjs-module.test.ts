/** IpMatchModule and @IpMatchRoute on Express and Fastify: forRootAsync, controller and handler options, filters, onBlock, startup, shutdown. */
import 'reflect-metadata';
import {
  type ArgumentsHost,
  Catch,
  Controller,
  type ExceptionFilter,
  type ExecutionContext,
  ForbiddenException,
  HttpCode,
  Injectable,
  Module,
  Post,
  UseGuards,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { Response as ExpressResponse } from 'express';
import type { FastifyReply } from 'fastify';
import { createIpMatch, type IpMatchDecision as Decision, IpMatchConfigError } from 'ipmatch';
import {
  IPMATCH_CORE,
  IpMatchDecision,
  IpMatchGuard,
  IpMatchModule,
  IpMatchRoute,
  type IpMatchRoutes,
} from 'ipmatch/nestjs';
import { describe, expect, test, vi } from 'vitest';
import { GB_IP, GB_PHONE, KR_IP, recorder } from '../helpers/adapter-suite.js';
import { nestApp, PLATFORMS, post, quiet, SignupController } from '../helpers/nest-app.js';

describe.each(PLATFORMS)('IpMatchModule on %s', (platform) => {
  test('forRootAsync builds the core from a config service that useFactory injects', async () => {
    @Injectable()
    class Config {
      get = (key: string) => ({ IPMATCH_MODE: 'observe' })[key];
    }
    @Module({ providers: [Config], exports: [Config] })
    class ConfigModule {}
    const module = IpMatchModule.forRootAsync({
      imports: [ConfigModule],
      inject: [Config],
      useFactory: async (config: Config) => ({
        logger: recorder().logger,
        mode: config.get('IPMATCH_MODE') as 'observe',
      }),
    });
    const app = await nestApp(platform, { imports: [module], controllers: [SignupController] });
    const res = await post(app, '/signup', KR_IP, { phone: GB_PHONE });
    expect(res.status).toBe(200);
    expect(res.body.decision).toMatchObject({
      action: 'flag',
      policyAction: 'block',
      reason: 'country_mismatch',
    });
  });

  test("a handler's @IpMatchRoute wins over its controller's, key by key, over forRoot's route", async () => {
    @Controller()
    @IpMatchRoute({ phone: 'user.phone', policy: { mismatch: 'flag' } })
    @UseGuards(IpMatchGuard)
    class Checkout {
      @Post('inherits')
      @HttpCode(200)
      inherits(@IpMatchDecision() decision: Decision) {
        return { decision };
      }
      @Post('overrides')
      @HttpCode(200)
      @IpMatchRoute({ policy: { mismatch: 'block' }, name: 'checkout' })
      overrides(@IpMatchDecision() decision: Decision) {
        return { decision };
      }
    }
    const onDecision = vi.fn();
    const module = IpMatchModule.forRoot({
      logger: recorder().logger,
      onDecision,
      route: { phone: 'phone', onInvalidPhone: 'skip' },
    });
    const app = await nestApp(platform, { imports: [module], controllers: [Checkout] });
    const body = { user: { phone: GB_PHONE } };
    const inherits = await post(app, '/inherits', KR_IP, body);
    expect(inherits.status).toBe(200);
    expect(inherits.body.decision).toMatchObject({ action: 'flag', reason: 'country_mismatch' });
    expect((await post(app, '/overrides', KR_IP, body)).status).toBe(403);
    expect(onDecision.mock.calls.map(([, context]) => context.route)).toEqual(['/inherits', 'checkout']);
    // forRoot's onInvalidPhone: 'skip' still holds where neither decorator set it.
    expect((await post(app, '/overrides', KR_IP, {})).status).toBe(200);
  });

  test("a user's exception filter reshapes the 403, which carries the adapters' body", async () => {
    @Catch(ForbiddenException)
    class Reshape implements ExceptionFilter {
      catch(exception: ForbiddenException, host: ArgumentsHost) {
        const { error, reason } = exception.getResponse() as { error: string; reason: string };
        const response = host.switchToHttp().getResponse();
        const body = { code: error, detail: reason };
        if (platform === 'express') response.status(451).json(body);
        else response.code(451).send(body);
      }
    }
    const app = await nestApp(platform, {
      imports: [quiet()],
      controllers: [SignupController],
      providers: [{ provide: APP_FILTER, useClass: Reshape }],
    });
    const res = await post(app, '/signup', KR_IP, { phone: GB_PHONE });
    expect({ status: res.status, body: res.body }).toEqual({
      status: 451,
      body: { code: 'ip_phone_mismatch', detail: 'country_mismatch' },
    });
  });

  test('onBlock answers a block itself, and the handler does not run', async () => {
    const handler = vi.fn();
    @Controller()
    class Custom {
      @Post('signup')
      @UseGuards(IpMatchGuard)
      @IpMatchRoute<unknown, ExpressResponse & FastifyReply>({
        onBlock: (_request, response, decision) => {
          const body = { blocked: decision.reason };
          if (platform === 'express') response.status(429).json(body);
          else void response.code(429).send(body);
        },
      })
      signup() {
        handler();
        return { ok: true };
      }
    }
    const app = await nestApp(platform, { imports: [quiet()], controllers: [Custom] });
    const res = await post(app, '/signup', KR_IP, { phone: GB_PHONE });
    expect({ status: res.status, body: res.body }).toEqual({
      status: 429,
      body: { blocked: 'country_mismatch' },
    });
    expect(handler).not.toHaveBeenCalled();
  });

  test('as a global APP_GUARD it covers every controller, without @UseGuards', async () => {
    @Controller()
    class Plain {
      @Post('signup')
      @HttpCode(200)
      signup(@IpMatchDecision() decision: Decision) {
        return { decision };
      }
    }
    const app = await nestApp(platform, {
      imports: [quiet()],
      controllers: [Plain],
      providers: [{ provide: APP_GUARD, useClass: IpMatchGuard }],
    });
    expect((await post(app, '/signup', KR_IP, { phone: GB_PHONE })).status).toBe(403);
    expect((await post(app, '/signup', GB_IP, { phone: GB_PHONE })).body.decision.reason).toBe(
      'country_match',
    );
  });

  test('a mistake in @IpMatchRoute stops the application at startup, naming the guard and the option', async () => {
    @Controller()
    class Typo {
      @Post('signup')
      @UseGuards(IpMatchGuard)
      @IpMatchRoute({ phone: 'user..phone' })
      signup() {
        return { ok: true };
      }
    }
    const started = nestApp(platform, { imports: [quiet()], controllers: [Typo] });
    await expect(started).rejects.toThrow(IpMatchConfigError);
    await expect(started).rejects.toThrow(/IpMatchGuard \(ipmatch\/nestjs\)[\s\S]*phone/);
  });

  test("the application's shutdown closes the module's one core, after its server stops", async () => {
    const core = createIpMatch({ logger: recorder().logger });
    const close = vi.spyOn(core, 'close');
    const app = await nestApp(platform, { imports: [quiet()], controllers: [SignupController] }, { core });
    expect(app.get(IPMATCH_CORE)).toBe(core);
    expect((await post(app, '/signup', GB_IP, { phone: GB_PHONE })).status).toBe(200);
    await app.close();
    expect(close).toHaveBeenCalledTimes(1);
  });
});

test('DI needs no emitted decorator metadata: the guard and its routes name what they inject', () => {
  // vitest compiles with esbuild, which emits no design:paramtypes: every application above resolved from @Inject.
  expect(Reflect.getMetadata('design:paramtypes', IpMatchGuard)).toBeUndefined();
});

test('a call that is not HTTP (a microservice, a WebSocket) passes unchecked, and the operator is told once', async () => {
  const { logger, codes } = recorder();
  const core = createIpMatch({ logger });
  const guard = new IpMatchGuard({ core } as IpMatchRoutes);
  const rpc = { getType: () => 'rpc' } as unknown as ExecutionContext;
  expect(guard.canActivate(rpc)).toBe(true);
  expect(guard.canActivate(rpc)).toBe(true);
  expect(codes()).toEqual(['IPMATCH_NEST_NOT_HTTP']);
  await core.close();
});
