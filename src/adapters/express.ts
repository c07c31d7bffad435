/** ipmatch/express: the Express middleware, which reads the parsed body, runs the route, stores and answers. */
import type { NextFunction, Request, Response } from 'express';
import type { IpMatchOptions } from '../core/options.js';
import type { IpMatch, IpMatchDecision } from '../core/types.js';
import { expressFramework, parsedBody, storeDecision } from './shared/express-request.js';
import { buildRoute, type Outcome, type RouteOptions as SharedRouteOptions } from './shared/route.js';

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
  const route = buildRoute<Request, OnBlock>(first, second, expressFramework);
  const { onBlock } = route;
  const answer = (
    outcome: Outcome,
    req: Request,
    res: Response,
    next: NextFunction,
  ): void | Promise<void> => {
    storeDecision(req, outcome.decision);
    if (outcome.kind === 'next') return next();
    if (outcome.kind === 'block' && onBlock) return onBlock(req, res, outcome.decision);
    res.status(outcome.status).json(outcome.body);
  };
  // Synchronous when the outcome is already here (offline: no promise per request). Every failure after the
  // check, such as an onBlock that rejects, goes to next(err) rather than relying on Express to catch it.
  return function ipMatchMiddleware(req, res, next) {
    const outcome = route.run(req, parsedBody(req));
    if (outcome instanceof Promise) return outcome.then((o) => answer(o, req, res, next)).catch(next);
    const answered = answer(outcome, req, res, next);
    if (answered instanceof Promise) return answered.catch(next);
  };
}

export * from './shared/core-exports.js';
