/**
 * A NestJS signup route guarded by ipmatch (offline default): a signup whose IP country differs from its phone's
 * country gets a 403 through Nest's ForbiddenException. Run it with `npm run example:nest`, then try the curl lines.
 */
import 'reflect-metadata';
import { pathToFileURL } from 'node:url';
import { Body, Controller, Module, Post, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { IpMatchOptions } from 'ipmatch';
import { IpMatchDecision, IpMatchGuard, IpMatchModule, IpMatchRoute } from 'ipmatch/nestjs';
import { listenOrExit } from './listen.js';

@Controller('signup')
@UseGuards(IpMatchGuard)
class SignupController {
  @Post()
  // The route's options; a controller can set them for all its handlers, and a handler's win.
  @IpMatchRoute({ phone: 'phone', name: 'signup' })
  signup(@Body() body: { phone: string }, @IpMatchDecision() ipMatch: IpMatchDecision) {
    // Reached for 'allow' and 'flag'. A flagged signup might get an SMS check before the account is live.
    return { created: true, phone: body.phone.slice(0, 4), ipMatch };
  }
}

/** The application, started (not listening): one ipmatch core for the whole app, closed with it. */
export async function createApp(options: IpMatchOptions = {}): Promise<NestExpressApplication> {
  @Module({ imports: [IpMatchModule.forRoot(options)], controllers: [SignupController] })
  class AppModule {}
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: ['error', 'warn'] });
  // Behind a reverse proxy on this host: trust X-Forwarded-For from loopback only, never from anyone.
  app.set('trust proxy', 'loopback');
  await app.init();
  return app;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const app = await createApp();
  const options = {
    port: Number(process.env.PORT ?? 3000),
    script: 'npm run example:nest',
    cleanup: () => app.close(),
  };
  listenOrExit(app.getHttpAdapter().getInstance(), options, (port) => {
    const url = `http://127.0.0.1:${port}/signup`;
    const post = (phone: string, ip: string) =>
      `curl -s -X POST ${url} -H 'content-type: application/json' -H 'x-forwarded-for: ${ip}' -d '{"phone":"${phone}"}'`;
    console.log(`ipmatch NestJS signup example on ${url}\n`);
    console.log(`# GB phone from a GB IP: 201\n${post('+447400123456', '81.2.69.160')}\n`);
    console.log(`# GB phone from a KR IP: 403\n${post('+447400123456', '211.234.0.1')}\n`);
    console.log(`# not a phone number: 400\n${post('call me', '81.2.69.160')}`);
  });
}
