/** ipmatch/hono: Hono middleware that reads the phone through Hono's body cache, runs the route and answers. */
import type { Context, MiddlewareHandler } from 'hono';
import type { IpMatchOptions } from '../core/options.js';
import type { IpMatch, IpMatchDecision } from '../core/types.js';
import type { FrameworkIp, PeerRequest } from './shared/client-ip-types.js';
import { buildRoute, type Framework, type RouteOptions as SharedRouteOptions } from './shared/route.js';
import { announcesBody, UnreadBody } from './shared/unread-body.js';
import { BODY_LIMIT, mediaType, PARSED, parseBody, peerRequest, readBody } from './shared/web-request.js';

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

/** Options of `ipMatch(options)`, which builds its own core: the core's options and one route's. */
export interface HonoOptions extends IpMatchOptions, RouteOptions {}

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

const EMPTY_BODY = (): unknown => ({});

/**
 * The parsed body, read through Hono's body cache (`c.req.json()`, `c.req.arrayBuffer()`), as Hono's own
 * validator reads it: the handler's `c.req.json()`, `c.req.parseBody()` or `c.req.valid()` then reads it again
 * from the cache, and a body a validator already read is not read twice. Reading a clone of `c.req.raw`
 * instead would make @hono/node-server build a web Request and tee its stream: ~1,100 µs of CPU per request
 * against ~140 µs for the whole bare route. Only a body of declared length within `BODY_LIMIT` is read this
 * way; a chunked one is read from a clone, where the cap can stop the read midway.
 *
 * `{}` when there is no body, an `UnreadBody` for a body of another content type; a promise only when the body
 * must be read first. The headers come from Node's own parse when there is a Node request, so that no Headers
 * object is built for them.
 */
function bodyOf(c: Context): unknown {
  const { headers } = raw(c);
  const contentType = typeof headers['content-type'] === 'string' ? headers['content-type'] : null;
  const type = mediaType(contentType);
  if (!PARSED.has(type)) {
    // Asked of the web Request only when Node's headers announce no body (an in-process Request has none).
    return announcesBody(headers) || c.req.raw.body !== null ? UnreadBody.notJsonOrForm : {};
  }
  const length = headers['content-length'];
  // A body already read (through the cache by a validator before us) is never read from a clone.
  if (!c.req.raw.bodyUsed && (length === undefined || !(Number(length) <= BODY_LIMIT)))
    return readBody(c.req.raw);
  // Malformed JSON, or a body someone read through `c.req.raw` and not the cache: no phone to read.
  if (type === 'application/json') return c.req.json().then(undefined, EMPTY_BODY);
  return c.req
    .arrayBuffer()
    .then((bytes) => parseBody(new Uint8Array(bytes), contentType))
    .then(undefined, EMPTY_BODY);
}

/**
 * Hono middleware (on Node, Bun, Deno and Cloudflare Workers) that checks the client IP's country against the
 * phone number's country.
 *
 * - `ipMatch(options?)` builds its own core from `IpMatchOptions` plus route options.
 * - `ipMatch(core, route?)` shares one `createIpMatch()` core across routes.
 *
 * It sets `c.get('ipMatch')`, then calls `next()`, or answers 403 (block), 400 (missing or invalid phone), 413
 * (body over 1 MiB) or 415 (neither JSON nor a form) with `c.json`. The phone is read through Hono's body cache (JSON, urlencoded or multipart, at most 1 MiB),
 * so handlers read the body again with `c.req.json()`, `c.req.parseBody()` or a validator, as after Hono's own
 * validator; `c.req.raw`'s stream is then used (`cloneRawRequest(c.req)` from `hono/request` rebuilds it). The client IP is the connection's peer on Node, Bun and Deno; on Workers pass
 * `clientIp: 'cf-connecting-ip'`. A mistake in the options throws `IpMatchConfigError` here.
 */
// The options form comes last: TypeScript reports a call that matches no form against the last one, and a typo
// in an option should be reported against HonoOptions, not against IpMatch.
export function ipMatch(core: IpMatch, route?: RouteOptions): MiddlewareHandler;
export function ipMatch(options?: HonoOptions): MiddlewareHandler;
export function ipMatch(first?: unknown, second?: unknown): MiddlewareHandler {
  const route = buildRoute<Context, OnBlock>(first, second, hono);
  const { onBlock } = route;
  return async function ipMatchMiddleware(c, next) {
    const body = route.readsBody ? bodyOf(c) : undefined;
    const ran = route.run(c, body instanceof Promise ? await body : body);
    const outcome = ran instanceof Promise ? await ran : ran;
    c.set('ipMatch', outcome.decision);
    if (outcome.kind === 'next') return next();
    if (outcome.kind === 'block' && onBlock) return onBlock(c, outcome.decision);
    return c.json(outcome.body, outcome.status);
  };
}

export * from './shared/core-exports.js';
