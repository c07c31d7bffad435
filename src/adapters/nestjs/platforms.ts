/** Nest's two HTTP platforms as the route code reads them: each request's IP, trust and body, and the decision's place. */

import type { Request } from 'express';
import type { FastifyRequest } from 'fastify';
import { IpMatchConfigError } from '../../core/errors.js';
import type { IpMatchDecision } from '../../core/types.js';
import { parsedBody as expressBody, expressFramework, storeDecision } from '../shared/express-request.js';
import { parsedBody as fastifyBody, fastifyFramework } from '../shared/fastify-request.js';
import type { Framework } from '../shared/route.js';

/** What the guard needs of the platform under Nest: Express's or Fastify's own reading of a request. */
export interface NestPlatform {
  name: 'express' | 'fastify';
  /** The platform's adapter description with the guard's name and Nest's words for a missing parser. */
  framework: Framework<unknown>;
  /** The parsed body, or the `UnreadBody` that says why there is none, as ipmatch/express or ipmatch/fastify reads it. */
  body(request: unknown): unknown;
  /** Puts the decision on `request.ipMatch`. */
  store(request: unknown, decision: IpMatchDecision): void;
}

const NAME = 'IpMatchGuard (ipmatch/nestjs)';

// The client IP is the platform's own, so Express's `trust proxy` (app.set) and Fastify's `trustProxy`
// (new FastifyAdapter({ trustProxy })) decide it, exactly as in ipmatch/express and ipmatch/fastify.
const express: NestPlatform = {
  name: 'express',
  framework: {
    ...(expressFramework as Framework<unknown>),
    name: NAME,
    bodyParsers: "Nest's body parser (NestFactory.create(AppModule) keeps it on unless bodyParser: false)",
  },
  body: (request) => expressBody(request as Request),
  store: (request, decision) => storeDecision(request as Request, decision),
};

const fastifyIp = fastifyFramework.ip.framework!;
const fastify: NestPlatform = {
  name: 'fastify',
  framework: {
    ...(fastifyFramework as Framework<unknown>),
    // Under Nest, Fastify's trustProxy is given to the adapter: the warnings say where.
    ip: {
      ...(fastifyFramework.ip as Framework<unknown>['ip']),
      framework: {
        ...(fastifyIp as NonNullable<Framework<unknown>['ip']['framework']>),
        advice: {
          enableTrust:
            "new FastifyAdapter({ trustProxy: … }) set to its address or hop count (e.g. '127.0.0.1' or 1)",
          restrictTrust:
            "set new FastifyAdapter({ trustProxy }) to your proxies' addresses (e.g. '10.0.0.0/8') or a hop count (e.g. 1)",
        },
      },
    },
    name: NAME,
    bodyParsers: "Nest's body parser (new FastifyAdapter() parses JSON and forms unless bodyParser: false)",
  },
  body: (request) => fastifyBody(request as FastifyRequest),
  store: (request, decision) => {
    (request as { ipMatch?: IpMatchDecision }).ipMatch = decision;
  },
};

/** The platform named by Nest's HTTP adapter (`httpAdapter.getType()`). */
export function nestPlatform(type: string): NestPlatform {
  if (type === 'express') return express;
  if (type === 'fastify') return fastify;
  throw new IpMatchConfigError(NAME, [
    `platform: expected @nestjs/platform-express or @nestjs/platform-fastify, got an HTTP adapter of type "${type}"`,
  ]);
}
