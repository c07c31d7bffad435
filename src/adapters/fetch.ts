/** ipmatch/fetch: a guard for fetch-standard handlers (Request in, Response or null out); it reads the body. */
import type { IpMatchOptions } from '../core/options.js';
import type { IpMatch, IpMatchDecision } from '../core/types.js';
import {
  buildRoute,
  type Framework,
  type Outcome,
  type RouteOptions as SharedRouteOptions,
} from './shared/route.js';
import { peerRequest, readBody } from './shared/web-request.js';

/** Answers a blocked request instead of the default 403 JSON. */
export type OnBlock = (request: Request, decision: IpMatchDecision) => Response | Promise<Response>;

/**
 * Options of one guarded handler; see the shared `RouteOptions` for each default. Function options receive
 * the `Request`. `clientIp` is required: a Request has no socket, so only the platform knows the client.
 */
export type RouteOptions = Omit<SharedRouteOptions<Request, OnBlock>, 'clientIp' | 'trustedProxies'> & {
  /**
   * The header your platform sets and strips from clients (Cloudflare `'cf-connecting-ip'`, Fly
   * `'fly-client-ip'`; its right-most entry is used), or a function such as Vercel's `ipAddress`. Trusting
   * any other header lets a client pick its own IP. On a server that gives you the connection's address
   * (Node, Bun, Deno), `'request-ip'` walks X-Forwarded-For from it through `trustedProxies`: pass that
   * address as `guard(request, { remoteAddress })`.
   */
  clientIp: string | ((request: Request) => string | undefined);
  /**
   * With `'request-ip'` (required then) or a header name: the proxies whose headers count, judged by the
   * `remoteAddress` given to the guard. A request without one then has no client IP (`ip_missing`).
   */
  trustedProxies?: string[] | undefined;
};

/**
 * The connection a request came over, where your server knows it: Node `{ remoteAddress: req.socket.remoteAddress }`,
 * Deno `{ remoteAddress: info.remoteAddr.hostname }`, Bun `{ remoteAddress: server.requestIP(request)?.address }`.
 */
export interface Connection {
  remoteAddress?: string | undefined;
}

/** Options of `ipMatch(options)`, which builds its own core: the core's options and one guard's. */
export interface FetchOptions extends IpMatchOptions, RouteOptions {}

export interface IpMatchResult {
  decision: IpMatchDecision;
  /** The 403/400 answer (or `onBlock`'s) to return instead of running the handler; null to go on. */
  response: Response | null;
}

export type IpMatchGuard = (request: Request, connection?: Connection) => Promise<IpMatchResult>;

/** The address each request's guard call was given: a Request has no socket of its own. */
const peers = new WeakMap<Request, string>();

const fetchStandard: Framework<Request> = {
  name: 'ipMatch (ipmatch/fetch)',
  bodyParsers: 'nothing',
  ip: {
    raw: (request) => peerRequest(request.headers, peers.get(request)),
    noPeerAdvice:
      "pass the connection's address as guard(request, { remoteAddress }), or on a platform with no socket " +
      "(Workers, Vercel) name the header it sets, such as 'cf-connecting-ip', without trustedProxies",
  },
  // A bare Request has no router: the route option `name` labels it, or the route is null.
  routePattern: () => null,
  method: (request) => request.method,
};

/**
 * A guard for any Request → Response runtime (Next.js route handlers, Cloudflare Workers, Bun, Deno) that
 * checks the client IP's country against the phone number's country.
 *
 * - `ipMatch(options)` builds its own core from `IpMatchOptions` plus route options.
 * - `ipMatch(core, route)` shares one `createIpMatch()` core across handlers.
 *
 * `await guard(request, connection?)` gives the decision, and a `Response` (403 block, 400 missing or invalid phone,
 * 413 body over 1 MiB, 415 neither JSON nor a form) to return, or null. The phone is read from a clone of the
 * request (JSON, urlencoded or multipart), so the handler can still read the body. A mistake in the options throws `IpMatchConfigError` here.
 */
// The options form comes last: TypeScript reports a call that matches no form against the last one, and a typo
// in an option should be reported against FetchOptions, not against IpMatch.
export function ipMatch(core: IpMatch, route: RouteOptions): IpMatchGuard;
export function ipMatch(options: FetchOptions): IpMatchGuard;
export function ipMatch(first: unknown, second?: unknown): IpMatchGuard {
  const route = buildRoute<Request, OnBlock>(first, second, fetchStandard);
  const { onBlock } = route;
  const answer = async (outcome: Outcome, request: Request): Promise<IpMatchResult> => {
    const { decision } = outcome;
    if (outcome.kind === 'next') return { decision, response: null };
    if (outcome.kind === 'block' && onBlock) return { decision, response: await onBlock(request, decision) };
    return { decision, response: Response.json(outcome.body, { status: outcome.status }) };
  };
  return async function ipMatchGuard(request, connection) {
    if (connection?.remoteAddress) peers.set(request, connection.remoteAddress);
    const body = route.readsBody ? await readBody(request) : undefined;
    return answer(await route.run(request, body), request);
  };
}

export * from './shared/core-exports.js';
