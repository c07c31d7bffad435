/** ipmatch/koa: Koa middleware (Koa 2 and 3) that reads `ctx.request.body`, runs the route and answers. */
import type { Context, Next } from 'koa';
import type { IpMatchOptions } from '../core/options.js';
import type { IpMatch, IpMatchDecision } from '../core/types.js';
import { koaFramework } from './shared/koa-request.js';
import {
  buildRoute,
  NO_BODY_PARSER,
  type Outcome,
  type RouteOptions as SharedRouteOptions,
} from './shared/route.js';
import { announcesBody, UnreadBody } from './shared/unread-body.js';

declare module 'koa' {
  interface DefaultState {
    /** The ipmatch decision for this request, set by the `ipMatch()` middleware. */
    ipMatch?: IpMatchDecision;
  }
}

/** Answers a blocked request instead of the default 403 JSON (set `ctx.status` and `ctx.body`). */
export type OnBlock = (ctx: Context, decision: IpMatchDecision) => void | Promise<void>;

/** Options of one Koa route; see the shared `RouteOptions` for each default. Function options receive `ctx`. */
export type RouteOptions = SharedRouteOptions<Context, OnBlock>;

export type IpMatchMiddleware = (ctx: Context, next: Next) => Promise<void>;

/** Options of `ipMatch(options)`, which builds its own core: the core's options and one route's. */
export interface KoaOptions extends IpMatchOptions, RouteOptions {}

// The methods Koa's body parsers read by default. On others (GET, DELETE…) they leave the body undefined too,
// and that is the client's missing phone, not a parser the operator forgot.
const PARSED_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * `ctx.request.body` as a body parser left it, or no parser. For a content type they skip, @koa/bodyparser and
 * koa-bodyparser leave `{}` without the `rawBody` they keep of what they parsed: that is a 415, not a 400.
 */
function parsedBody(ctx: Context): unknown {
  const request = ctx.request as { body?: unknown; rawBody?: unknown };
  const body = request.body;
  if (body === undefined) return PARSED_METHODS.has(ctx.method) ? NO_BODY_PARSER : undefined;
  const skipped = request.rawBody === undefined && isEmptyObject(body) && announcesBody(ctx.req.headers);
  return skipped ? UnreadBody.unsupported : body;
}

function isEmptyObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  for (const key in value) if (Object.hasOwn(value, key)) return false;
  return true;
}

/**
 * Koa middleware (Koa 2 and 3) that checks the client IP's country against the phone number's country.
 *
 * - `ipMatch(options?)` builds its own core from `IpMatchOptions` plus route options.
 * - `ipMatch(core, route?)` shares one `createIpMatch()` core (cache, connections) across routes; `route`
 *   may override `policy` and `mode` for this route only.
 *
 * It sets `ctx.state.ipMatch`, then calls `next()`, or answers 403 (block) or 400 (missing or invalid phone).
 * The phone is read from `ctx.request.body`, so mount a body parser first. Options are validated here: a
 * mistake throws `IpMatchConfigError` at startup, never per request.
 */
// The options form comes last: TypeScript reports a call that matches no form against the last one, and a typo
// in an option should be reported against KoaOptions, not against IpMatch.
export function ipMatch(core: IpMatch, route?: RouteOptions): IpMatchMiddleware;
export function ipMatch(options?: KoaOptions): IpMatchMiddleware;
export function ipMatch(first?: unknown, second?: unknown): IpMatchMiddleware {
  const route = buildRoute<Context, OnBlock>(first, second, koaFramework);
  const { onBlock } = route;
  const answer = async (ctx: Context, next: Next, ran: Outcome | Promise<Outcome>): Promise<void> => {
    const outcome = await ran;
    ctx.state.ipMatch = outcome.decision;
    if (outcome.kind === 'next') return next();
    if (outcome.kind === 'block' && onBlock) return onBlock(ctx, outcome.decision);
    ctx.status = outcome.status;
    ctx.body = outcome.body;
  };
  return function ipMatchMiddleware(ctx, next) {
    let ran: Outcome | Promise<Outcome>;
    try {
      ran = route.run(ctx, parsedBody(ctx));
    } catch (err) {
      return Promise.reject(err);
    }
    // A request that goes on, decided without waiting: next()'s own promise, no async frame around it.
    if (!(ran instanceof Promise) && ran.kind === 'next') {
      ctx.state.ipMatch = ran.decision;
      return next();
    }
    return answer(ctx, next, ran);
  };
}

export * from './shared/core-exports.js';
