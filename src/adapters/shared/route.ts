/**
 * The route core, and the contract every framework adapter fulfils.
 *
 * An adapter is an entry file in src/adapters/ (express.ts, koa.ts, fastify.ts, hono.ts, fetch.ts); what they
 * share lives here in src/adapters/shared/, with what the Node frameworks' requests hold in express-request.ts,
 * koa-request.ts and fastify-request.ts. The entry file gives `buildRoute` a `Framework`, whose functions the
 * route and the client-IP code call per request (so they live in shared/, and no call goes back up into the
 * entry file), and its own middleware function then translates an `Outcome` into its framework's terms:
 * - `name`: the entry point, for error messages ('ipMatch (ipmatch/express)');
 * - `bodyParsers`: what to mount when the framework parsed no body (only adapters that pass `NO_BODY_PARSER`);
 * - `ip.raw(req)`: the request's headers and socket peer, as Node's IncomingMessage holds them;
 * - `ip.framework` (where there is a connection): the framework's own client IP, its proxy trust, and how
 *   to fix that trust in its words. Without it (the Fetch API) `clientIp` must be a header or a function.
 * - `routePattern(req)` and `method(req)`: for `onDecision`'s context, read only when one listens.
 * Per request the adapter calls `route.run(req, body)` with the parsed body (or an `UnreadBody`), or reads
 * the body itself first when `route.readsBody` (fetch-standard requests: `readBody` in web-request.ts). It
 * then stores `outcome.decision` where handlers look for it, and either goes on (`next`), calls the route's
 * `onBlock` (`block`), or answers `outcome.status` with the JSON `outcome.body`. Options, defaults, policy,
 * the answers' wording and the warnings all live here and in route-options.ts, so adapters do not repeat them.
 */
import type { Checked, CoreInternals, RequestContext } from '../../core/internal.js';
import { regionHint } from '../../core/options.js';
import type { CheckInput, IpMatch, IpMatchDecision } from '../../core/types.js';
import { type BlockBody, blockBody, type PhoneAnswer, phoneAnswers } from './answers.js';
import { compileClientIp } from './client-ip.js';
import type { RequestIp } from './client-ip-types.js';
import { phoneHints } from './phone-hints.js';
import { compilePhonePath } from './phone-path.js';
import { resolve } from './route-options.js';
import { UnreadBody } from './unread-body.js';

export {
  type BlockBody,
  type BodyErrorBody,
  blockBody,
  type InvalidPhoneBody,
} from './answers.js';
export type { RouteOptions } from './route-options.js';
export { NO_BODY_PARSER, UnreadBody } from './unread-body.js';

/** How an adapter describes its framework to the shared route code. */
export interface Framework<Req> {
  /** Names the middleware in error messages, e.g. 'ipMatch (ipmatch/express)'. */
  name: string;
  /** The body parsers to mount, e.g. 'express.json() or express.urlencoded()'. */
  bodyParsers: string;
  ip: RequestIp<Req>;
  /**
   * The route pattern the framework matched ('/users/:id'), never the requested URL, which would put client
   * input into metric labels; null when there is none. Read only when an `onDecision` listens.
   */
  routePattern(req: Req): string | null;
  method(req: Req): string;
}

/** What the adapter does with one request: call the next handler, or answer with `status` and a JSON `body`. */
export type Outcome =
  | { kind: 'next'; decision: IpMatchDecision }
  | { kind: 'block'; status: 403; body: BlockBody; decision: IpMatchDecision }
  | ({ kind: 'invalid'; decision: IpMatchDecision } & PhoneAnswer);

/** One route's middleware, framework-free. */
export interface Route<Req, OnBlock> {
  core: IpMatch;
  onBlock: OnBlock | undefined;
  /** Whether `run` reads the phone from the body (false when `phone` is a function). */
  readsBody: boolean;
  /**
   * `body` is the parsed body, or an `UnreadBody` saying why there is none (`NO_BODY_PARSER`…). Synchronous
   * when nothing needs waiting for (the offline provider, no async function options). Throws or rejects only
   * when a user's `clientIp` function throws.
   */
  run(req: Req, body: unknown): Outcome | Promise<Outcome>;
}

/**
 * Builds one route from the adapter's arguments: validates options, compiles the phone reader, the client IP
 * getter and the route's policy once, and returns the per-request runner.
 */
export function buildRoute<Req, OnBlock>(
  first: unknown,
  second: unknown,
  fw: Framework<Req>,
): Route<Req, OnBlock> {
  const { core, inner, route, compiled, mode } = resolve(first, second, {
    name: fw.name,
    connection: fw.ip.framework !== undefined,
  });
  const clientIp = compileClientIp(
    route.clientIp as Parameters<typeof compileClientIp<Req>>[0],
    route.trustedProxies,
    fw.ip,
    inner.warnOnce,
  );
  const passInvalid = mode === 'observe' || route.onInvalidPhone === 'skip';
  const name = route.name ?? null;
  const describe = inner.observed
    ? (req: Req): RequestContext => ({ route: name ?? fw.routePattern(req), method: fw.method(req) })
    : undefined;

  const path = typeof route.phone === 'function' ? undefined : (route.phone ?? 'phone');
  const readPath = path === undefined ? undefined : compilePhonePath(path);
  const readPhone = typeof route.phone === 'function' ? guard(route.phone, 'phone', inner) : undefined;
  const country = typeof route.country === 'string' ? regionHint(route.country) : undefined;
  const readCountry =
    typeof route.country === 'function' ? guard(route.country, 'country', inner) : undefined;

  const answerInvalid = phoneAnswers(path);
  const hints = phoneHints(inner, {
    path,
    hasRegion: route.country !== undefined || inner.defaultCountry !== undefined,
    bodyParsers: fw.bodyParsers,
  });

  /** The phone from the parsed body, or the UnreadBody that says why there is none. */
  const fromBody = (body: unknown): unknown => {
    if (body instanceof UnreadBody) {
      // Only a missing parser is the developer's to fix; a client's content type or size is not.
      if (body === UnreadBody.noParser) hints.noParser();
      return body;
    }
    if (body === undefined) return undefined;
    const phone = readPath!(body);
    if (phone === undefined) hints.missing(body);
    return phone;
  };

  const outcome = ({ decision, cause }: Checked, phone: unknown): Outcome => {
    if (decision.reason === 'phone_invalid') {
      hints.invalid(phone);
      if (passInvalid) return { kind: 'next', decision };
      return { kind: 'invalid', ...answerInvalid(phone), decision };
    }
    if (decision.action === 'block')
      return { kind: 'block', status: 403, body: blockBody(decision, cause), decision };
    return { kind: 'next', decision };
  };

  const conclude = (
    req: Req,
    phone: unknown,
    ip: string | undefined,
    region: unknown,
  ): Outcome | Promise<Outcome> => {
    const input: CheckInput = { phone: phone instanceof UnreadBody ? undefined : phone, ip };
    if (typeof region === 'string') input.country = region;
    const checked = describe ? inner.check(input, compiled, describe(req)) : inner.check(input, compiled);
    return checked instanceof Promise ? checked.then((c) => outcome(c, phone)) : outcome(checked, phone);
  };

  return {
    core,
    onBlock: route.onBlock as OnBlock | undefined,
    readsBody: readPath !== undefined,
    run(req, body) {
      const ip = clientIp(req);
      // Synchronous on the common path (a body path, the offline provider): no promise per request.
      if (!readPhone && !readCountry) return conclude(req, fromBody(body), ip, country);
      return (async () => {
        const phone = readPhone ? await readPhone(req) : fromBody(body);
        return conclude(req, phone, ip, readCountry ? await readCountry(req) : country);
      })();
    },
  };
}

/**
 * A user's reader that throws (say `req.body.user.phone` on a body without `user`) is the client's bad input,
 * not a server error: the request gets the missing-phone answer, and the operator one warning.
 */
function guard<Req>(read: (req: Req) => unknown, what: string, inner: CoreInternals) {
  return async (req: Req): Promise<unknown> => {
    try {
      return await read(req);
    } catch (err) {
      inner.warnOnce(
        `IPMATCH_${what.toUpperCase()}_READER_THREW`,
        `ipmatch: your ${what} option threw, so the request was treated as having no ${what}`,
        { error: err instanceof Error ? `${err.name}: ${err.message.slice(0, 200)}` : typeof err },
      );
      return undefined;
    }
  };
}
