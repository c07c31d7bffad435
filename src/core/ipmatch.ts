import * as z from 'zod/mini';
import { combineDecisionHandlers } from '../observe/combine.js';
import { localProvider } from '../providers/local.js';
import { lookupError, runWithBudget } from './budget.js';
import { LookupCache } from './cache.js';
import {
  blockingSignals,
  type CoreInternals,
  type IpMatchWithInternals,
  kInternals,
  parseOnlyProviders,
  type RequestContext,
  type RouteDecider,
} from './internal.js';
import { normalizeIp } from './ip.js';
import { consoleLogger, onceLogger } from './logger.js';
import { type Match, matchCountries, PHONE_INVALID } from './match.js';
import { MemoryStore } from './memory-store.js';
import {
  DEFAULT_CACHE,
  DEFAULT_TIMEOUT_MS,
  type IpMatchOptions,
  modeSchema,
  parseCoreOptions,
  policySchema,
  regionHint,
} from './options.js';
import { loadFullParser, PhoneParserLoading } from './phone.js';
import { applyMode, compilePolicy } from './policy.js';
import type { LookupRequest, ParsedPhone, PhoneLookup } from './provider.js';
import { offlineLookup, remoteIsDown } from './remote-down.js';
import type { Signal } from './signals.js';
import type {
  CheckInput,
  DecisionContext,
  IpFacts,
  IpMatch,
  IpMatchDecision,
  MatchResult,
  OnDecision,
  PhoneFacts,
} from './types.js';
import { parseOptions } from './validate.js';

const routeSchema = z.strictObject({ policy: z.optional(policySchema), mode: z.optional(modeSchema) });

/**
 * Builds the framework-free core. Options are validated here, once; `check()` never throws or rejects.
 *
 * @example
 * const ipm = createIpMatch({ policy: { mismatch: 'block' } });
 * const decision = await ipm.check({ phone: '+447400123456', ip: '81.2.69.160' });
 */
export function createIpMatch(options: IpMatchOptions = {}): IpMatch {
  const opts = parseCoreOptions(options);
  const logger = opts.logger ?? consoleLogger;
  const once = onceLogger(logger);
  const provider = opts.provider ?? localProvider();
  provider.attach?.({ logger });
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const defaultCountry = opts.defaultCountry;
  const onDecision: OnDecision | undefined = Array.isArray(opts.onDecision)
    ? combineDecisionHandlers(...opts.onDecision)
    : opts.onDecision;
  const coreRoute: RouteDecider = {
    ...compilePolicy(opts.policy, undefined, logger),
    mode: opts.mode ?? 'enforce',
  };

  const cacheOpts = opts.cache === false ? undefined : { ...DEFAULT_CACHE, ...opts.cache };
  const cache =
    provider.remote && cacheOpts
      ? new LookupCache({
          store: cacheOpts.store ?? new MemoryStore({ max: cacheOpts.max, ttlMs: cacheOpts.ttlMs }),
          ttlMs: cacheOpts.ttlMs,
          storeTimeoutMs: cacheOpts.storeTimeoutMs,
          ...(provider.roamingTtlMs === undefined
            ? {}
            : { roaming: { ttlMs: provider.roamingTtlMs, max: cacheOpts.max } }),
          // The cache reports once per outage (the first failure after a success), so each outage is logged.
          onStoreError: (operation, error) =>
            logger.warn(
              `ipmatch: the cache store failed on ${operation}; checks carry on without it until it recovers`,
              {
                code: 'IPMATCH_STORE_UNAVAILABLE',
                error: error instanceof Error ? error.message : String(error),
              },
            ),
        })
      : undefined;
  const scope = provider.cacheScope ?? provider.name;
  const parseOnly = parseOnlyProviders.has(provider);
  const locking = cacheOpts?.lock === true && cache?.canLock === true;
  if (cache && cacheOpts?.lock && !cache.canLock) {
    once.warn(
      'IPMATCH_STORE_NO_LOCK',
      'ipmatch: cache.lock is on but the store has no lock(); checks look up unlocked',
    );
  }
  let closed = false;

  /**
   * Applies the route's policy and builds the decision. Objects are written out field by field, in one
   * order, rather than spread: on the hot path a spread costs more than the whole match.
   */
  function finish(
    match: Match,
    ip: IpFacts,
    phone: PhoneFacts,
    providerName: string,
    cached: boolean,
    route: RouteDecider,
    error?: { code: string; message: string },
    lookup?: PhoneLookup,
    routeSignals?: readonly Signal[],
  ): IpMatchDecision {
    const { matchLevel, reason } = match;
    // A copy: a lookup shared by concurrent checks must not share one array among their decisions.
    const signals = lookup?.signals ? [...lookup.signals] : [];
    if (routeSignals) signals.push(...routeSignals);
    const result: MatchResult = { matchLevel, reason, ip, phone, provider: providerName, signals };
    if (error) result.error = error;
    if (lookup?.degraded) result.degraded = true;
    const policyAction = route.decide(result);
    const decision: IpMatchDecision = {
      action: applyMode(policyAction, route.mode),
      policyAction,
      matchLevel,
      reason,
      ip,
      phone,
      provider: providerName,
      signals,
      cached,
    };
    if (error) decision.error = error;
    if (policyAction === 'block' && signals.length > 0) {
      const signal = route.blockedBy(result);
      if (signal) blockingSignals.set(decision, signal);
    }
    if (lookup?.cost && !cached) decision.cost = lookup.cost;
    if (lookup?.budgetExceeded) decision.budgetExceeded = true;
    if (lookup?.degraded) decision.degraded = true;
    return decision;
  }

  /** Hands the decision to `onDecision` with where and how long; only reached when there is one. */
  function notify(decision: IpMatchDecision, request: RequestContext | undefined, started: number): void {
    const context: DecisionContext = {
      route: request ? request.route : null,
      method: request ? request.method : null,
      durationMs: performance.now() - started,
    };
    try {
      const returned: unknown = onDecision!(decision, context);
      // An async listener's rejection must not become an unhandled rejection that takes the app down.
      if (returned instanceof Promise) returned.catch(onDecisionFailed);
    } catch (err) {
      onDecisionFailed(err);
    }
  }

  async function closeOnDecision(): Promise<void> {
    try {
      await onDecision?.close?.();
    } catch (err) {
      logger.error('ipmatch: closing onDecision failed', {
        code: 'IPMATCH_ON_DECISION_CLOSE_FAILED',
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  function onDecisionFailed(err: unknown): void {
    logger.error('ipmatch: onDecision threw; the request went on', {
      code: 'IPMATCH_ON_DECISION_THREW',
      error: err instanceof Error ? err.message : String(err),
    });
  }

  /** The phone side as parsed locally: before (or without) a provider lookup. */
  function parsedFacts(parsed: ParsedPhone): PhoneFacts {
    return { number: parsed.number, country: parsed.country, roamingCountry: null, valid: parsed.valid };
  }

  /** The phone side as the provider saw it, with whatever extra facts it found. */
  function lookedUpFacts(parsed: ParsedPhone, lookup: PhoneLookup): PhoneFacts {
    const facts: PhoneFacts = {
      number: parsed.number,
      country: lookup.country,
      roamingCountry: lookup.roamingCountry,
    };
    if (lookup.facts) {
      for (const key in lookup.facts) {
        const value = lookup.facts[key as keyof typeof lookup.facts];
        if (value !== undefined) (facts as unknown as Record<string, unknown>)[key] = value;
      }
    }
    return facts;
  }

  async function lookupRemote(request: Omit<LookupRequest, 'signal' | 'deadline'>, start: number) {
    if (!cache) return { lookup: await runWithBudget(provider, request, start, timeoutMs), cached: false };
    const hashed = LookupCache.key(scope, request.phone.number, provider.keyIncludesIp ? request.ip : null);
    const key = typeof hashed === 'string' ? hashed : await hashed;
    const hit = await cache.get(key);
    if (hit) return { lookup: hit, cached: true };
    const joined = cache.inflight(key);
    if (joined) return { lookup: await runWithBudget(joined, request, start, timeoutMs), cached: true };
    if (!locking) {
      const lookup = runWithBudget(provider, request, start, timeoutMs);
      return { lookup: await cache.share(key, lookup), cached: false };
    }
    // Across servers: one takes the store's lock and looks up; the others wait for its result in the store.
    const led = cache.shareLocked(key, () => runWithBudget(provider, request, start, timeoutMs), {
      deadline: start + timeoutMs,
      timeoutMs,
    });
    const { lookup, fromStore } = await led;
    return { lookup, cached: fromStore };
  }

  /**
   * The check itself. It stays synchronous until something really is asynchronous (a remote lookup), so the
   * offline provider decides without a promise; a remote provider's path continues in `lookUp`.
   */
  function decide(
    input: CheckInput,
    route: RouteDecider | undefined,
    routeSignals?: readonly Signal[],
  ): IpMatchDecision | Promise<IpMatchDecision> {
    const r = route ?? coreRoute;
    const phoneInput = input?.phone;
    const normIp = normalizeIp(input?.ip);
    const ip: IpFacts = { address: normIp.address, country: null };
    const parsed =
      typeof phoneInput === 'string'
        ? provider.parsePhone(phoneInput, regionHint(input.country) ?? defaultCountry)
        : null;
    // Route signals are facts about a missing client IP (ip_missing), so they end the check here.
    if (!parsed)
      return finish(
        PHONE_INVALID,
        ip,
        NO_PHONE(),
        provider.name,
        false,
        r,
        undefined,
        undefined,
        routeSignals,
      );
    if (!normIp.public || normIp.address === null) {
      return finish(
        NOT_PUBLIC,
        ip,
        parsedFacts(parsed),
        provider.name,
        false,
        r,
        undefined,
        undefined,
        routeSignals,
      );
    }
    ip.country = provider.ipCountry(normIp.address);
    if (parseOnly) {
      // The offline provider: its lookup would restate the parse, so match the parse directly.
      const m = matchCountries({
        ipPublic: true,
        ipCountry: ip.country,
        phoneCountry: parsed.country,
        roamingCountry: null,
      });
      return finish(m, ip, parsedFacts(parsed), provider.name, false, r);
    }
    const address = normIp.address;
    if (provider.remote)
      return lookUp({ phone: parsed, ip: address, clientIp: address }, ip, r, performance.now());
    let got: PhoneLookup | Promise<PhoneLookup>;
    try {
      const deadline = performance.now() + timeoutMs;
      got = provider.lookup({ phone: parsed, ip: address, clientIp: address, signal: never(), deadline });
    } catch (err) {
      return failed(err, parsed, ip, r);
    }
    if (got instanceof Promise) {
      return got.then(
        (lookup) => matched(lookup, false, parsed, ip, r),
        (err: unknown) => failed(err, parsed, ip, r),
      );
    }
    return matched(got, false, parsed, ip, r);
  }

  async function lookUp(
    request: Omit<LookupRequest, 'signal' | 'deadline'>,
    ip: IpFacts,
    r: RouteDecider,
    start: number,
  ): Promise<IpMatchDecision> {
    try {
      const { lookup, cached } = await lookupRemote(request, start);
      return matched(lookup, cached, request.phone, ip, r);
    } catch (err) {
      return failed(err, request.phone, ip, r);
    }
  }

  function matched(
    lookup: PhoneLookup,
    cached: boolean,
    parsed: ParsedPhone,
    ip: IpFacts,
    r: RouteDecider,
    error?: { code: string; message: string },
  ) {
    if (lookup.legacyIp?.country) ip.country = lookup.legacyIp.country;
    const m = matchCountries({
      ipPublic: true,
      ipCountry: ip.country,
      phoneCountry: lookup.country,
      roamingCountry: lookup.roamingCountry,
      roamingCountries: lookup.facts?.roamingCountries,
      legacy: lookup.legacyIp?.matchLevel,
    });
    const phone = lookedUpFacts(parsed, lookup);
    return finish(m, ip, phone, lookup.provider ?? provider.name, cached, r, error, lookup);
  }

  function failed(err: unknown, parsed: ParsedPhone, ip: IpFacts, r: RouteDecider): IpMatchDecision {
    const { reason, error } = lookupError(err, timeoutMs);
    // A remote provider that is down: the offline data decides, as localProvider would, with the error kept.
    if (provider.remote && opts.remoteDown !== 'error' && remoteIsDown(err, reason)) {
      return matched(offlineLookup(parsed), false, parsed, ip, r, error);
    }
    return finish({ matchLevel: 'unknown', reason }, ip, parsedFacts(parsed), provider.name, false, r, error);
  }

  /** Unreachable by design; kept so that a bug can never throw or reject into a request. */
  function internalError(err: unknown, route: RouteDecider | undefined): IpMatchDecision {
    logger.error('ipmatch: internal error during check', { error: String(err) });
    const error = { code: 'internal_error', message: 'ipmatch internal error' };
    const failure: Match = { matchLevel: 'unknown', reason: 'lookup_failed' };
    return finish(
      failure,
      { address: null, country: null },
      NO_PHONE(),
      provider.name,
      false,
      route ?? coreRoute,
      error,
    );
  }

  function safeDecide(
    input: CheckInput,
    route: RouteDecider | undefined,
    _request?: RequestContext,
    routeSignals?: readonly Signal[],
  ): IpMatchDecision | Promise<IpMatchDecision> {
    try {
      const d = decide(input, route, routeSignals);
      return d instanceof Promise ? d.catch((err: unknown) => internalError(err, route)) : d;
    } catch (err) {
      // The first number the phone fast path cannot decide waits for libphonenumber-js's full parser, once.
      if (err instanceof PhoneParserLoading) {
        return err.loaded.then(
          () => safeDecide(input, route, undefined, routeSignals),
          (loadError: unknown) => internalError(loadError, route),
        );
      }
      return internalError(err, route);
    }
  }

  /** safeDecide, timed and reported to `onDecision`: the clock is read only when someone listens. */
  function observedDecide(
    input: CheckInput,
    route: RouteDecider | undefined,
    request?: RequestContext,
    routeSignals?: readonly Signal[],
  ): IpMatchDecision | Promise<IpMatchDecision> {
    const started = performance.now();
    const d = safeDecide(input, route, request, routeSignals);
    if (!(d instanceof Promise)) {
      notify(d, request, started);
      return d;
    }
    return d.then((decision) => {
      notify(decision, request, started);
      return decision;
    });
  }

  const decideAndReport = onDecision ? observedDecide : safeDecide;
  const internals: CoreInternals = {
    decide: decideAndReport,
    compileRoute(overrides) {
      const o = parseOptions(routeSchema, overrides, 'route options');
      if (o.policy === undefined && o.mode === undefined) return undefined;
      return {
        ...compilePolicy(o.policy ?? opts.policy, opts.policy, logger),
        mode: o.mode ?? coreRoute.mode,
      };
    },
    observed: onDecision !== undefined,
    mode: coreRoute.mode,
    defaultCountry,
    logger,
    warnOnce: once.warn,
  };

  const core: IpMatchWithInternals = {
    check: async (input) => decideAndReport(input, undefined),
    async ready() {
      // The built-in providers' full phone parser is loaded on first need; a warmed server has it already.
      await Promise.all([provider.ready?.(), loadFullParser()]);
    },
    async close() {
      if (closed) return;
      closed = true;
      cache?.clear();
      // A decision log flushes here, so that the last decisions reach the file before the process exits.
      await Promise.all([provider.close?.(), closeOnDecision()]);
    },
    [kInternals]: internals,
  };
  return core;
}

let neverAborts: AbortSignal | undefined;
/** The signal of an offline lookup, which nothing aborts. Made on first use: Workers refuse it at import. */
const never = () => (neverAborts ??= new AbortController().signal);
const NOT_PUBLIC: Match = { matchLevel: 'unknown', reason: 'ip_not_public' };
const NO_PHONE = (): PhoneFacts => ({ number: null, country: null, roamingCountry: null });
