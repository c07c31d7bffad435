import type { NextFunction, Request, Response } from 'express';
import type { IpMatchOptions } from '../core/options.js';
import type { IpMatch, IpMatchDecision } from '../core/types.js';
import { callbackMiddleware } from './shared/callback-style.js';
import type { FrameworkIp } from './shared/client-ip.js';
import { requestState, storeDecision } from './shared/express-decision.js';
import {
  buildRoute,
  type Framework,
  NO_BODY_PARSER,
  type RouteOptions as SharedRouteOptions,
} from './shared/route.js';
import { announcesBody, UnreadBody } from './shared/unread-body.js';

declare global {
  namespace Express {
    interface Request {
      /** The ipmatch decision for this request, set by the `ipMatch()` middleware. */
      ipMatch?: IpMatchDecision;
    }
  }
}

/** Answers a blocked request instead of the default 403 JSON. */
export type OnBlock = (req: Request, res: Response, decision: IpMatchDecision) => void | Promise<void>;

/** Options of one Express route; see the shared `RouteOptions` for each default. */
export type RouteOptions = SharedRouteOptions<Request, OnBlock>;

/** Options of `ipMatch(options)`, which builds its own core: the core's options and one route's. */
export interface ExpressOptions extends IpMatchOptions, RouteOptions {}

/** Returns a promise only when the check had to wait (a remote lookup, an async option); Express 5 awaits it. */
export type IpMatchMiddleware = (req: Request, res: Response, next: NextFunction) => void | Promise<void>;

const expressIp: FrameworkIp<Request> = {
  ip: (req) => req.ip,
  trust: (req) => requestState(req).trust,
  advice: {
    enableTrust: "app.set('trust proxy', …) set to its address or hop count (e.g. 'loopback' or 1)",
    restrictTrust:
      "set app.set('trust proxy', …) to your proxies' addresses (e.g. 'loopback') or a hop count (e.g. 1)",
  },
};

/**
 * The matched route's pattern under its router's mount path: '/api' + '/users/:id'. Mounted with `app.use()`,
 * ipMatch runs before any route matched, so only the mount path is known.
 */
function routePattern(req: Request): string | null {
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path === 'string') return req.baseUrl + path;
  return req.baseUrl || null;
}

const express: Framework<Request> = {
  name: 'ipMatch (ipmatch/express)',
  bodyParsers: 'express.json() or express.urlencoded()',
  ip: { raw: (req) => req, framework: expressIp },
  routePattern,
  method: (req) => req.method,
};

/**
 * Express middleware that checks the client IP's country against the phone number's country.
 *
 * - `ipMatch(options?)` builds its own core from `IpMatchOptions` plus route options.
 * - `ipMatch(core, route?)` shares one `createIpMatch()` core (cache, connections) across routes; `route`
 *   may override `policy` and `mode` for this route only.
 *
 * It sets `req.ipMatch`, then calls `next()`, or answers 403 (block) or 400 (missing or invalid phone).
 * Options are validated here: a mistake throws `IpMatchConfigError` at startup, never per request.
 */
// The options form comes last: TypeScript reports a call that matches no form against the last one, and a typo
// in an option should be reported against ExpressOptions, not against IpMatch.
export function ipMatch(core: IpMatch, route?: RouteOptions): IpMatchMiddleware;
export function ipMatch(options?: ExpressOptions): IpMatchMiddleware;
export function ipMatch(first?: unknown, second?: unknown): IpMatchMiddleware {
  const route = buildRoute<Request, OnBlock>(first, second, express);
  return callbackMiddleware(route, {
    // Express 5 leaves req.body unset until a body parser runs, and sets it (maybe undefined) when one does:
    // undefined then, with a body sent, is a content type the mounted parsers skip.
    body: (req) => {
      const body: unknown = req.body;
      if (body !== undefined) return body;
      if (!('body' in req)) return NO_BODY_PARSER;
      return announcesBody(req.headers) ? UnreadBody.unsupported : undefined;
    },
    store: storeDecision,
    send: (res, status, body) => {
      res.status(status).json(body);
    },
  }) as IpMatchMiddleware;
}

export * from './shared/core-exports.js';
