import { z } from 'zod';
import { IpMatchConfigError } from '../core/errors.js';
import { type CoreInternals, internals, type RouteDecider } from '../core/internal.js';
import { createIpMatch } from '../core/ipmatch.js';
import { coreOptionsShape, modeSchema, policySchema, regionHint } from '../core/options.js';
import type {
  CheckInput,
  IpMatch,
  IpMatchDecision,
  MatchLevel,
  Mode,
  Policy,
  Reason,
} from '../core/types.js';
import { parseOptions } from '../core/validate.js';
import {
  type ClientIpOption,
  clientIpProblems,
  compileClientIp,
  type FrameworkIp,
  isProxyEntry,
} from './client-ip.js';
import { compilePhonePath, phonePathProblem } from './phone-path.js';

/**
 * What one route's middleware does, the same for every framework. `Req` is what function options receive
 * (Express `req`, Koa `ctx`); `OnBlock` is the framework's own block handler.
 */
export interface RouteOptions<Req, OnBlock = (req: Req, decision: IpMatchDecision) => void | Promise<void>> {
  /**
   * Where the phone number is: a dot path into the parsed body such as 'user.phone' (own keys only), or a
   * function of the request (it may return a promise). Default `'phone'`.
   */
  phone?: string | ((req: Req) => unknown);
  /**
   * Region for national-format numbers on this route ('GB' reads '07400 123456' as +44), or a function of
   * the request. Default: the core's `defaultCountry`, else none (numbers must be international).
   */
  country?: string | ((req: Req) => string | undefined);
  /**
   * Where the client IP comes from. Default `'framework'`: Express `req.ip` / Koa `ctx.ip`, which honour the
   * app's proxy trust. `'request-ip'` reads proxy headers only from peers in `trustedProxies`. A function
   * decides by itself (its exceptions reach the framework's error handler).
   */
  clientIp?: ClientIpOption<Req>;
  /**
   * With `clientIp: 'request-ip'` (required then, and only then): the proxies whose headers count, as IPs,
   * CIDRs ('10.0.0.0/8', 'fd00::/8') or 'loopback' | 'linklocal' | 'uniquelocal'. Default: none.
   */
  trustedProxies?: string[];
  /** This route's policy, merged over the core's (a map) or replacing it (a function). Default: the core's. */
  policy?: Policy;
  /** This route's mode: 'observe' never answers by itself. Default: the core's (`'enforce'` unless set). */
  mode?: Mode;
  /**
   * Answers a blocked request instead of the default 403 JSON
   * `{ error: 'ip_phone_mismatch' | 'ip_phone_unverified' | 'ip_match_unavailable', message, matchLevel, reason }`.
   */
  onBlock?: OnBlock;
  /**
   * A missing or unparseable phone: `'reject'` (default) answers 400 JSON `{ error: 'invalid_phone', message }`;
   * `'skip'` passes the request on with a `phone_invalid` decision.
   */
  onInvalidPhone?: 'reject' | 'skip';
}

/** How an adapter describes its framework to the shared route code. */
export interface Framework<Req> {
  /** Names the middleware in error messages, e.g. 'ipMatch (ipmatch/express)'. */
  name: string;
  /** The body parsers to mount, e.g. 'express.json() or express.urlencoded()'. */
  bodyParsers: string;
  ip: FrameworkIp<Req>;
}

/** Stands for the phone when there is no parsed body to read it from. */
const BODY_MISSING: unique symbol = Symbol('ipmatch.bodyMissing');

/** The body to pass when no body parser ran at all (as opposed to one that left the body empty). */
export const NO_BODY_PARSER: unique symbol = Symbol('ipmatch.noBodyParser');

export interface BlockBody {
  error: 'ip_phone_mismatch' | 'ip_phone_unverified' | 'ip_match_unavailable';
  message: string;
  matchLevel: MatchLevel;
  reason: Reason;
}
export interface InvalidPhoneBody {
  error: 'invalid_phone';
  message: string;
}

/** What the adapter does with one request: call the next handler, or answer with `status` and a JSON `body`. */
export type Outcome =
  | { kind: 'next'; decision: IpMatchDecision }
  | { kind: 'block'; status: 403; body: BlockBody; decision: IpMatchDecision }
  | { kind: 'invalid'; status: 400; body: InvalidPhoneBody; decision: IpMatchDecision };

/** One route's middleware, framework-free. */
export interface Route<Req, OnBlock> {
  core: IpMatch;
  onBlock: OnBlock | undefined;
  /**
   * `body` is the parsed body, or `NO_BODY_PARSER`. Synchronous when nothing needs waiting for (the offline
   * provider, no async function options). Throws or rejects only when a user's `clientIp` function throws.
   */
  run(req: Req, body: unknown): Outcome | Promise<Outcome>;
}

/** A function, or a value that `check` accepts (it returns the problem in words). */
const fnOr = (check: (v: unknown) => string | undefined) =>
  z.custom<unknown>().superRefine((v, ctx) => {
    const problem = typeof v === 'function' ? undefined : check(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: v });
  });

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
  v === 'framework' || v === 'request-ip'
    ? undefined
    : "expected 'framework', 'request-ip' or a function (req) => ip",
);
const proxyMessage =
  'expected an IP, a CIDR such as "10.0.0.0/8", or "loopback" | "linklocal" | "uniquelocal"';

const routeShape = {
  phone: phoneSchema.optional(),
  country: countrySchema.optional(),
  clientIp: clientIpSchema.optional(),
  trustedProxies: z
    .array(z.string().refine(isProxyEntry, { message: proxyMessage }), {
      error: 'expected an array of proxy addresses such as ["10.0.0.0/8"]',
    })
    .optional(),
  policy: policySchema.optional(),
  mode: modeSchema.optional(),
  onBlock: fnOr(() => 'expected a function').optional(),
  onInvalidPhone: z.enum(['reject', 'skip']).optional(),
};
const routeSchema = z.strictObject(routeShape);
const combinedSchema = z.strictObject({ ...coreOptionsShape, ...routeShape });
const ROUTE_ONLY = Object.keys(routeShape).filter((k) => !(k in coreOptionsShape));
const CORE_ONLY = Object.keys(coreOptionsShape).filter((k) => !(k in routeShape));

type AnyRoute = RouteOptions<unknown, unknown>;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Route options beside a shared core: core-only keys get a message that says where they belong. */
function parseRouteOptions(value: unknown, where: string): AnyRoute {
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
  problems.push(...clientIpProblems(parsed.clientIp ?? 'framework', parsed.trustedProxies));
  if (problems.length > 0) throw new IpMatchConfigError(where, problems);
  return parsed;
}

interface Resolved {
  core: IpMatch;
  inner: CoreInternals;
  route: AnyRoute;
  /** This route's policy/mode over the core's, or undefined to use the core's own. */
  decider: RouteDecider | undefined;
  mode: Mode;
}

/** `ipMatch(options?)` builds a core; `ipMatch(core, route?)` shares one. Everything is validated here, once. */
function resolve(first: unknown, second: unknown, where: string): Resolved {
  const shared = internals(first);
  if (shared) {
    const route = parseRouteOptions(second, `${where} route options`);
    const overrides = route.policy !== undefined || route.mode !== undefined;
    const decider = overrides ? shared.compileRoute({ policy: route.policy, mode: route.mode }) : undefined;
    return { core: first as IpMatch, inner: shared, route, decider, mode: decider?.mode ?? shared.mode };
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
  const problems = clientIpProblems(all.clientIp ?? 'framework', all.trustedProxies);
  if (problems.length > 0) throw new IpMatchConfigError(`${where} options`, problems);
  const given = isObject(first) ? first : {};
  // policy and mode belong to the core this form builds, so its decisions need no route override.
  const coreOptions = Object.fromEntries(Object.entries(given).filter(([k]) => !ROUTE_ONLY.includes(k)));
  const core = createIpMatch(coreOptions);
  return { core, inner: internals(core)!, route: all, decider: undefined, mode: all.mode ?? 'enforce' };
}

const BLOCK_MESSAGES: Record<BlockBody['error'], string> = {
  ip_phone_mismatch: "The phone number's country does not match the country of your network connection.",
  ip_phone_unverified: "The phone number's country could not be checked against your network connection.",
  ip_match_unavailable: 'The phone number could not be checked right now. Please try again later.',
};

/** The default 403 body: its `error` names the cause. */
export function blockBody(decision: IpMatchDecision): BlockBody {
  const error = decision.error
    ? 'ip_match_unavailable'
    : decision.matchLevel === 'mismatch'
      ? 'ip_phone_mismatch'
      : 'ip_phone_unverified';
  return { error, message: BLOCK_MESSAGES[error], matchLevel: decision.matchLevel, reason: decision.reason };
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
  const { core, inner, route, decider, mode } = resolve(first, second, fw.name);
  const clientIp = compileClientIp(
    route.clientIp,
    route.trustedProxies,
    fw.ip as FrameworkIp<unknown>,
    inner.warnOnce,
  );
  const passInvalid = mode === 'observe' || route.onInvalidPhone === 'skip';

  const path = typeof route.phone === 'function' ? undefined : (route.phone ?? 'phone');
  const readPath = path === undefined ? undefined : compilePhonePath(path);
  const readPhone = typeof route.phone === 'function' ? guard(route.phone, 'phone', inner) : undefined;
  const country = typeof route.country === 'string' ? regionHint(route.country) : undefined;
  const readCountry =
    typeof route.country === 'function' ? guard(route.country, 'country', inner) : undefined;

  const at = path === undefined ? '' : ` at "${path}" in the request body`;
  const invalid = (message: string): InvalidPhoneBody => Object.freeze({ error: 'invalid_phone', message });
  const noBody = invalid(
    `No parsed request body: mount ${fw.bodyParsers} before ipMatch, and send the phone number as JSON or a form.`,
  );
  const missing = invalid(`Missing phone number: expected it${at}.`);
  const unparseable = invalid(
    `Not a valid phone number${at}: use the international format, such as +447400123456.`,
  );

  /** The phone from the parsed body, or BODY_MISSING when there is none (warning once if no parser ran). */
  const fromBody = (body: unknown): unknown => {
    if (body !== undefined && body !== NO_BODY_PARSER) return readPath!(body);
    // Only a missing parser is the operator's to fix; a parser that skipped a client's content type is not.
    if (body === NO_BODY_PARSER) {
      inner.warnOnce(
        'IPMATCH_NO_BODY_PARSER',
        `ipmatch: the request body is not parsed, so every request gets 400 invalid_phone: mount ` +
          `${fw.bodyParsers} before ipMatch, or pass phone: (req) => … to read it from elsewhere.`,
      );
    }
    return BODY_MISSING;
  };

  const outcome = (decision: IpMatchDecision, phone: unknown): Outcome => {
    if (decision.reason === 'phone_invalid') {
      if (passInvalid) return { kind: 'next', decision };
      const body =
        phone === BODY_MISSING
          ? noBody
          : phone === undefined || phone === null || phone === ''
            ? missing
            : unparseable;
      return { kind: 'invalid', status: 400, body, decision };
    }
    if (decision.action === 'block')
      return { kind: 'block', status: 403, body: blockBody(decision), decision };
    return { kind: 'next', decision };
  };

  const conclude = (phone: unknown, ip: string | undefined, region: unknown): Outcome | Promise<Outcome> => {
    const input: CheckInput = { phone: phone === BODY_MISSING ? undefined : phone, ip };
    if (typeof region === 'string') input.country = region;
    const decided = inner.decide(input, decider);
    return decided instanceof Promise ? decided.then((d) => outcome(d, phone)) : outcome(decided, phone);
  };

  return {
    core,
    onBlock: route.onBlock as OnBlock | undefined,
    run(req, body) {
      const ip = clientIp(req);
      // Synchronous on the common path (a body path, the offline provider): no promise per request.
      if (!readPhone && !readCountry) return conclude(fromBody(body), ip, country);
      return (async () => {
        const phone = readPhone ? await readPhone(req) : fromBody(body);
        return conclude(phone, ip, readCountry ? await readCountry(req) : country);
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
