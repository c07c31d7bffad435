/** Nest applications for the ipmatch/nestjs tests: one module on Express or Fastify, trusting the loopback proxy. */
import 'reflect-metadata';
import {
  Controller,
  HttpCode,
  type INestApplication,
  type ModuleMetadata,
  Post,
  Req,
  UseGuards,
} from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { IpMatchDecision as Decision, IpMatch } from 'ipmatch';
import { IPMATCH_CORE, IpMatchDecision, IpMatchGuard, IpMatchModule } from 'ipmatch/nestjs';
import request from 'supertest';
import { afterAll } from 'vitest';
import { recorder } from './adapter-suite.js';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

export interface NestAppOptions {
  /** Trust the loopback proxy (supertest connects from it) with the platform's own setting. Default true. */
  proxy?: boolean;
  /** Replace the module's core with this one (to watch it). */
  core?: IpMatch;
}

const apps: INestApplication[] = [];
afterAll(() => Promise.all(apps.map((app) => app.close())));

/** A started application of `metadata` on `platform`, closed after the file's tests; supertest its getHttpServer(). */
export async function nestApp(
  platform: Platform,
  metadata: ModuleMetadata,
  { proxy = true, core }: NestAppOptions = {},
): Promise<INestApplication> {
  let builder = Test.createTestingModule(metadata);
  if (core) builder = builder.overrideProvider(IPMATCH_CORE).useValue(core);
  const ref = await builder.compile();
  let app: INestApplication;
  if (platform === 'express') {
    const express = ref.createNestApplication<NestExpressApplication>(new ExpressAdapter(), {
      logger: false,
    });
    if (proxy) express.set('trust proxy', 'loopback');
    app = express;
  } else {
    const adapter = new FastifyAdapter(proxy ? { trustProxy: 'loopback' } : {});
    app = ref.createNestApplication<NestFastifyApplication>(adapter, { logger: false });
  }
  apps.push(app);
  await app.init();
  if (platform === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return app;
}

/** The module with a logger that keeps its warnings out of the test output. */
export const quiet = () => IpMatchModule.forRoot({ logger: recorder().logger });

/** A signup route behind the guard, answering 200 with the decision it got as a parameter and on the request. */
@Controller()
export class SignupController {
  @Post('signup')
  @HttpCode(200)
  @UseGuards(IpMatchGuard)
  signup(@IpMatchDecision() decision: Decision, @Req() req: { ipMatch?: Decision }) {
    return { ok: true, decision, onRequest: req.ipMatch === decision };
  }
}

/** POSTs `body` to `path` from `ip`, as the loopback proxy in front says in X-Forwarded-For. */
export const post = (app: INestApplication, path: string, ip: string, body: object | string) =>
  request(app.getHttpServer() as Parameters<typeof request>[0])
    .post(path)
    .set('X-Forwarded-For', ip)
    .send(body);
