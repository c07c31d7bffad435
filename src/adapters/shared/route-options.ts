/** The route options' schema and defaults, checked once at startup, and the core a route runs on. */
import * as z from 'zod/mini';
import { IpMatchConfigError } from '../../core/errors.js';
import { type CompiledRoute, type CoreInternals, internals } from '../../core/internal.js';
import { coreOptionsShape, modeSchema, policySchema, regionHint } from '../../core/options.js';
import { phoneCountriesSchema } from '../../core/phone-countries.js';
import type { PhoneCountries, RouteSignalOptions } from '../../core/signal-source.js';
import type { IpMatch, IpMatchDecision, Mode, Policy } from '../../core/types.js';
import { parseOptions } from '../../core/validate.js';
import { createIpMatch } from '../../create-ip-match.js';
import { clientIpProblems, clientIpStringProblem, isProxyEntry, readsHeader } from './client-ip.js';
import type { ClientIpOption } from './client-ip-types.js';
import { phonePathProblem } from './phone-path.js';

/**
 * What one route's middleware does, the same for every framework. `Req` is what function options receive
 * (Express `req`, Koa `ctx`); `OnBlock` is the framework's own block handler.
 */
export interface RouteOptions<Req, OnBlock = (req: Req, decision: IpMatchDecision) => void | Promise<void>> {
  /**
   * Where the phone number is: a dot path into the parsed body such as 'user.phone' (own keys only), or a
   * function of the request (it may return a promise). Default `'phone'`.
   */
  phone?: string | ((req: Req) => unknown) | undefined;
  /**
   * Region for national-format numbers on this route ('GB' reads '07400 123456' as +44), or a function of
   * the request. Default: the core's `defaultCountry`, else none (numbers must be international).
   */
  country?: string | ((req: Req) => string | undefined) | undefined;
  /**
   * Where the client IP comes from. Default `'framework'`: Express `req.ip` / Koa `ctx.ip` / Fastify
   * `request.ip`, which honour the app's proxy trust (Hono: the runtime's connection peer).
   * `'request-ip'` walks X-Forwarded-For from the socket peer through `trustedProxies`, as Express's
   * `trust proxy` does: the right-most entry that is not one of them; no other header counts. A header name
   * such as `'cf-connecting-ip'` reads the header your platform sets and strips from clients (its right-most
   * entry), from trusted peers only when `trustedProxies` is set; trusting any other header lets a client
   * pick its own IP. A route that reads a header and finds no address gets the `ip_missing` signal (default
   * `flag`). A function decides by itself (its exceptions
   * reach the framework's error handler). `ipmatch/fetch` has no default: there is no socket to read.
   */
  clientIp?: ClientIpOption<Req> | undefined;
  /**
   * With `clientIp: 'request-ip'` (required then) or a header name: the proxies whose headers count, as IPs,
   * CIDRs ('10.0.0.0/8', 'fd00::/8') or 'loopback' | 'linklocal' | 'uniquelocal'. Default: none.
   */
  trustedProxies?: string[] | undefined;
  /** This route's policy, merged over the core's (a map) or replacing it (a function). Default: the core's. */
  policy?: Policy | undefined;
  /** This route's mode: 'observe' never answers by itself. Default: the core's (`'enforce'` unless set). */
  mode?: Mode | undefined;
  /**
   * Answers a blocked request instead of the default 403 JSON
   * `{ error: 'ip_phone_mismatch' | 'ip_phone_unverified' | 'ip_match_unavailable', message, matchLevel, reason }`.
   */
  onBlock?: OnBlock | undefined;
  /**
   * A missing or unparseable phone: `'reject'` (default) answers 400 JSON `{ error: 'invalid_phone', message }`
   * (413 `body_too_large` or 415 `unsupported_content_type`, same shape, for a body that was not read);
   * `'skip'` passes the request on with a `phone_invalid` decision.
   */
  onInvalidPhone?: 'reject' | 'skip' | undefined;
  /**
   * This route's name in `onDecision`'s context (and so in the decision log and metrics), such as 'signup'.
   * Default: the route pattern the framework matched ('/users/:id/checkout'), or null where it has none.
   */
  name?: string | undefined;
  /**
   * This route sends a one-time code by SMS or voice: `premium_rate_number`, `shared_cost_number` and
   * `sms_incapable_number` then default to `block`, `voip_number` to `flag` (the core's and this route's policy
   * maps still win). Default: the core's `sendsOtp`, else false.
   */
  sendsOtp?: boolean | undefined;
  /**
   * Which countries' numbers this route takes, as ISO 3166-1 alpha-2 codes: outside `allow` or inside `deny` is
   * `country_not_allowed` (default `block`, 403 `{ error: 'country_not_allowed' }`). Replaces the core's lists.
   * Default: the core's `phoneCountries`, else none.
   */
  phoneCountries?: PhoneCountries | undefined;
}

/** A function, or a value that `check` accepts (it returns the problem in words). */
const fnOr = (check: (v: unknown) => string | undefined) =>
  z.custom<unknown>().check(
    z.superRefine((v, ctx) => {
      const problem = typeof v === 'function' ? undefined : check(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, input: v });
    }),
  );

const phoneSchema = fnOr((v) =>
  typeof v === 'string'
    ? phonePathProblem(v)
    : 'expected a dot path into the body such as "phone" or "user.phone", or a function (req) => phone',
);
const countrySchema = fnOr((v) =>
  typeof v === 'string' && regionHint(v)
    ? undefined
    : 'expected an ISO 3166-1 alpha-2 region such as "GB" or "US", or a function (req) => region',
);
const clientIpSchema = fnOr((v) =>
  typeof v === 'string'
    ? clientIpStringProblem(v)
    : "expected 'framework', 'request-ip', a header name or a function (req) => ip",
);
const proxyMessage =
  'expected an IP, a CIDR such as "10.0.0.0/8", or "loopback" | "linklocal" | "uniquelocal"';

const routeShape = {
  phone: z.optional(phoneSchema),
  country: z.optional(countrySchema),
  clientIp: z.optional(clientIpSchema),
  trustedProxies: z.optional(
    z.array(z.string().check(z.refine(isProxyEntry, { message: proxyMessage })), {
      error: 'expected an array of proxy addresses such as ["10.0.0.0/8"]',
    }),
  ),
  policy: z.optional(policySchema),
  mode: z.optional(modeSchema),
  onBlock: z.optional(fnOr(() => 'expected a function')),
  onInvalidPhone: z.optional(z.enum(['reject', 'skip'])),
  sendsOtp: z.optional(z.boolean()),
  phoneCountries: z.optional(phoneCountriesSchema),
  name: z.optional(
    z
      .string()
      .check(
        z.minLength(1, { error: 'expected a non-empty route name such as "signup"' }),
        z.maxLength(200, { error: 'expected a route name of at most 200 characters' }),
      ),
  ),
};
const routeSchema = z.strictObject(routeShape);
const combinedSchema = z.strictObject({ ...coreOptionsShape, ...routeShape });
const ROUTE_ONLY = Object.keys(routeShape).filter((k) => !(k in coreOptionsShape));
const CORE_ONLY = Object.keys(coreOptionsShape).filter((k) => !(k in routeShape));

export type AnyRoute = RouteOptions<unknown, unknown>;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Names the entry point in messages; `connection` is false where there is no socket (ipmatch/fetch). */
export interface Where {
  name: string;
  connection: boolean;
}

/** Route options beside a shared core: core-only keys get a message that says where they belong. */
function parseRouteOptions(value: unknown, { name, connection }: Where): AnyRoute {
  const where = `${name} route options`;
  const problems: string[] = [];
  let rest = value;
  if (isObject(value)) {
    const misplaced = CORE_ONLY.filter((k) => Object.hasOwn(value, k));
    for (const key of misplaced) {
      problems.push(
        `${key}: a core option, which a shared core already has; pass it to createIpMatch({ ${key} })`,
      );
    }
    rest = Object.fromEntries(Object.entries(value).filter(([k]) => !misplaced.includes(k)));
  }
  let parsed: AnyRoute = {};
  try {
    parsed = parseOptions(routeSchema, rest, where) as AnyRoute;
  } catch (err) {
    if (!(err instanceof IpMatchConfigError)) throw err;
    problems.push(...err.problems);
  }
  problems.push(...clientIpProblems(parsed.clientIp ?? 'framework', parsed.trustedProxies, connection));
  if (problems.length > 0) throw new IpMatchConfigError(where, problems);
  return parsed;
}

export interface Resolved {
  core: IpMatch;
  inner: CoreInternals;
  route: AnyRoute;
  /** This route's policy, mode and signal sources over the core's, compiled once. */
  compiled: CompiledRoute;
  mode: Mode;
}

/** `ipMatch(options?)` builds a core; `ipMatch(core, route?)` shares one. Everything is validated here, once. */
export function resolve(first: unknown, second: unknown, at: Where): Resolved {
  const where = at.name;
  const shared = internals(first);
  if (shared) {
    const route = parseRouteOptions(second, at);
    const compiled = shared.compileRoute({
      policy: route.policy,
      mode: route.mode,
      signals: signalOptions(route),
    });
    return { core: first as IpMatch, inner: shared, route, compiled, mode: compiled.mode };
  }
  if (isObject(first) && typeof first.check === 'function') {
    throw new IpMatchConfigError(where, [
      'core: expected a core built by createIpMatch() from ipmatch (it carries the internals routes need)',
    ]);
  }
  if (second !== undefined) {
    throw new IpMatchConfigError(where, [
      'route options go in the first argument when ipMatch builds its own core; pass a createIpMatch() core ' +
        'first to share it across routes',
    ]);
  }
  const all = parseOptions(combinedSchema, first, `${where} options`) as AnyRoute;
  const problems = clientIpProblems(all.clientIp ?? 'framework', all.trustedProxies, at.connection);
  if (problems.length > 0) throw new IpMatchConfigError(`${where} options`, problems);
  const given = isObject(first) ? first : {};
  // policy and mode belong to the core this form builds, so its decisions need no route override.
  const coreOptions = Object.fromEntries(Object.entries(given).filter(([k]) => !ROUTE_ONLY.includes(k)));
  const core = createIpMatch(coreOptions);
  const inner = internals(core)!;
  const compiled = inner.compileRoute({ signals: signalOptions(all) });
  return { core, inner, route: all, compiled, mode: compiled.mode };
}

/**
 * What a route tells the signal sources: whether its client IP comes from a header (then none is `ip_missing`),
 * and its own `sendsOtp` and `phoneCountries` (undefined: the core's).
 */
function signalOptions(route: AnyRoute): RouteSignalOptions {
  return {
    readsIpHeader: readsHeader(route.clientIp),
    sendsOtp: route.sendsOtp,
    phoneCountries: route.phoneCountries,
  };
}
