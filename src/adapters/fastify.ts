/** ipmatch/fastify: a preHandler per route (reads the parsed body, runs the route, answers) and the plugin. */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import fp from 'fastify-plugin';
import type { IpMatchOptions } from '../core/options.js';
import type { IpMatch, IpMatchDecision } from '../core/types.js';
import { createIpMatch } from '../create-ip-match.js';
import { fastifyFramework, parsedBody } from './shared/fastify-request.js';
import { buildRoute, type Outcome, type RouteOptions as SharedRouteOptions } from './shared/route.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The ipmatch decision for this request, set by the `ipMatch()` preHandler. */
    ipMatch?: IpMatchDecision;
  }
  interface FastifyInstance {
    /** The shared core registered by `ipMatchPlugin`. */
    ipMatch: IpMatch;
  }
}

/** Answers a blocked request instead of the default 403 JSON (send the reply). */
export type OnBlock = (
  request: FastifyRequest,
  reply: FastifyReply,
  decision: IpMatchDecision,
) => void | Promise<void>;

/** Options of one Fastify route; see the shared `RouteOptions` for each default. Function options receive `request`. */
export type RouteOptions = SharedRouteOptions<FastifyRequest, OnBlock>;

/** Options of `ipMatch(options)`, which builds its own core: the core's options and one route's. */
export interface FastifyOptions extends IpMatchOptions, RouteOptions {}

/** A `preHandler` hook: `fastify.post('/signup', { preHandler: ipMatch(core) }, handler)`. */
export type IpMatchPreHandler = (
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
) => void;

/**
 * A Fastify `preHandler` that checks the client IP's country against the phone number's country.
 *
 * - `ipMatch(options?)` builds its own core from `IpMatchOptions` plus route options.
 * - `ipMatch(core, route?)` shares one core (`fastify.ipMatch` from `ipMatchPlugin`, or `createIpMatch()`).
 *
 * It sets `request.ipMatch`, then lets the handler run, or answers 403 (block) or 400 (missing or invalid
 * phone). The client IP is `request.ip`, so `trustProxy` decides it. A mistake in the options throws
 * `IpMatchConfigError` here.
 */
// The options form comes last: TypeScript reports a call that matches no form against the last one, and a typo
// in an option should be reported against FastifyOptions, not against IpMatch.
export function ipMatch(core: IpMatch, route?: RouteOptions): IpMatchPreHandler;
export function ipMatch(options?: FastifyOptions): IpMatchPreHandler;
export function ipMatch(first?: unknown, second?: unknown): IpMatchPreHandler {
  const route = buildRoute<FastifyRequest, OnBlock>(first, second, fastifyFramework);
  const { onBlock } = route;
  const answer = (
    outcome: Outcome,
    request: FastifyRequest,
    reply: FastifyReply,
    done: HookHandlerDoneFunction,
  ): void | Promise<void> => {
    request.ipMatch = outcome.decision;
    if (outcome.kind === 'next') return done();
    if (outcome.kind === 'block' && onBlock) return onBlock(request, reply, outcome.decision);
    // A reply sent without done() ends the request: Fastify then skips the handler.
    reply.code(outcome.status).send(outcome.body);
  };
  // Synchronous when the outcome is already here (offline: no promise per request). Nothing is returned:
  // Fastify would take a promise for an async hook and go on a second time. A failure after the check, such
  // as an onBlock that rejects, goes to done(err).
  return function ipMatchMiddleware(request, reply, done) {
    const outcome = route.run(request, parsedBody(request));
    if (outcome instanceof Promise) {
      void outcome.then((o) => answer(o, request, reply, done)).catch(done);
      return;
    }
    const answered = answer(outcome, request, reply, done);
    if (answered instanceof Promise) void answered.catch(done);
  };
}

/** What `ipMatchPlugin` takes: the core's options. */
export type IpMatchPluginOptions = IpMatchOptions;

// The keys Fastify's register() adds to a plugin's options for itself.
const REGISTER_KEYS = new Set(['prefix', 'logLevel', 'logSerializers']);

/**
 * Registers one shared core: `fastify.ipMatch` (pass it to `ipMatch(fastify.ipMatch, route)`), a
 * `request.ipMatch` decoration, and the core's `close()` when Fastify closes.
 */
export const ipMatchPlugin = fp<IpMatchPluginOptions>(
  async function ipMatchPlugin(instance, options) {
    const own = Object.fromEntries(Object.entries(options).filter(([key]) => !REGISTER_KEYS.has(key)));
    const core = createIpMatch(own);
    instance.decorate('ipMatch', core);
    instance.decorateRequest('ipMatch', undefined);
    instance.addHook('onClose', () => core.close());
  },
  { fastify: '5.x', name: 'ipmatch' },
);

export * from './shared/core-exports.js';
