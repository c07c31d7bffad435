import type { Context, MiddlewareHandler } from 'hono';
import type { IpMatchOptions } from '../core/options.js';
import type { IpMatch, IpMatchDecision } from '../core/types.js';
import type { FrameworkIp, PeerRequest } from './client-ip.js';
import { buildRoute, type Framework, type RouteOptions as SharedRouteOptions } from './route.js';
import { parseBody, peerRequest, readBody } from './web-request.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** The ipmatch decision for this request, set by the `ipMatch()` middleware. */
    ipMatch?: IpMatchDecision;
  }
}

/** Answers a blocked request instead of the default 403 JSON. */
export type OnBlock = (c: Context, decision: IpMatchDecision) => Response | Promise<Response>;

/** Options of one Hono route; see the shared `RouteOptions` for each default. Function options receive `c`. */
export type RouteOptions = SharedRouteOptions<Context, OnBlock>;

/** What each runtime's Hono adapter passes as `c.env` (or as `c.env.server`), as far as the connection goes. */
interface Bindings {
  /** @hono/node-server: the IncomingMessage. */
  incoming?: PeerRequest;
  /** Bun: `Bun.serve({ fetch: app.fetch })` passes the server. */
  requestIP?: (request: Request) => { address: string } | null;
  /** Deno: `Deno.serve(app.fetch)` passes its ServeHandlerInfo. */
  remoteAddr?: { hostname?: string };
}

/**
 * The headers and the connection's peer, read as `getConnInfo` from each runtime's Hono adapter reads them.
 * Workers have no peer (their `getConnInfo` reads `cf-connecting-ip`), so there `clientIp` names that header.
 */
function raw(c: Context): PeerRequest {
  const env = (typeof c.env === 'object' && c.env !== null ? c.env : {}) as Bindings & { server?: Bindings };
  const bindings = env.server ?? env;
  if (bindings.incoming?.headers) return bindings.incoming;
  const peer =
    typeof bindings.requestIP === 'function'
      ? (bindings.requestIP(c.req.raw)?.address ?? undefined)
      : bindings.remoteAddr?.hostname;
  return peerRequest(c.req.raw.headers, peer);
}

const honoIp: FrameworkIp<Context> = {
  ip: (c) => raw(c).socket?.remoteAddress,
  // Hono reads no proxy header by itself: the peer is the client unless clientIp says otherwise.
  trust: () => 'off',
  advice: {
    enableTrust:
      "clientIp: 'request-ip' with trustedProxies set to your proxy's addresses, or clientIp: the header " +
      "your platform sets (e.g. 'cf-connecting-ip')",
    restrictTrust: 'list only your own proxies in trustedProxies',
  },
};

const hono: Framework<Context> = {
  name: 'ipMatch (ipmatch/hono)',
  bodyParsers: 'nothing',
  ip: { raw, framework: honoIp },
  // The path the running handler was registered with ('/users/:id', or '/api/*' for app.use('/api/*')).
  // c.req.routePath is deprecated for hono/route's routePath(c), which Hono before 4.8 lacks.
  routePattern: (c) => c.req.routePath ?? null,
  method: (c) => c.req.method,
};

/** The parsed body; from Hono's own cache when a validator before us already read it. */
async function bodyOf(c: Context): Promise<unknown> {
  if (!c.req.raw.bodyUsed) return readBody(c.req.raw);
  try {
    return await parseBody(new Uint8Array(await c.req.arrayBuffer()), c.req.header('content-type') ?? null);
  } catch {
    return {};
  }
}

/**
 * Hono middleware (on Node, Bun, Deno and Cloudflare Workers) that checks the client IP's country against the
 * phone number's country.
 *
 * - `ipMatch(options?)` builds its own core from `IpMatchOptions` plus route options.
 * - `ipMatch(core, route?)` shares one `createIpMatch()` core across routes.
 *
 * It sets `c.get('ipMatch')`, then calls `next()`, or answers 403 (block) or 400 (missing or invalid phone)
 * with `c.json`. The phone is read from a clone of the request (JSON, urlencoded or multipart), so handlers
 * can still read the body. The client IP is the connection's peer on Node, Bun and Deno; on Workers pass
 * `clientIp: 'cf-connecting-ip'`. A mistake in the options throws `IpMatchConfigError` here.
 */
export function ipMatch(options?: IpMatchOptions & RouteOptions): MiddlewareHandler;
export function ipMatch(core: IpMatch, route?: RouteOptions): MiddlewareHandler;
export function ipMatch(first?: unknown, second?: unknown): MiddlewareHandler {
  const route = buildRoute<Context, OnBlock>(first, second, hono);
  const { onBlock } = route;
  return async function ipMatchMiddleware(c, next) {
    const ran = route.run(c, route.readsBody ? await bodyOf(c) : undefined);
    const outcome = ran instanceof Promise ? await ran : ran;
    c.set('ipMatch', outcome.decision);
    if (outcome.kind === 'next') return next();
    if (outcome.kind === 'block' && onBlock) return onBlock(c, outcome.decision);
    return c.json(outcome.body, outcome.status);
  };
}

export * from './core-exports.js';
