import { z } from 'zod';
import { localProvider } from '../providers/local.js';
import { lookupError, runWithBudget } from './budget.js';
import { LookupCache } from './cache.js';
import { type CoreInternals, type IpMatchWithInternals, kInternals, type RouteDecider } from './internal.js';
import { normalizeIp } from './ip.js';
import { consoleLogger, onceLogger } from './logger.js';
import { matchCountries, PHONE_INVALID } from './match.js';
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
import { applyMode, compilePolicy } from './policy.js';
import type { LookupRequest, ParsedPhone, PhoneLookup } from './provider.js';
import type {
  CheckInput,
  IpFacts,
  IpMatch,
  IpMatchDecision,
  MatchResult,
  Mode,
  PhoneFacts,
} from './types.js';
import { parseOptions } from './validate.js';

const routeSchema = z.strictObject({ policy: policySchema.optional(), mode: modeSchema.optional() });

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
  const onDecision = opts.onDecision;
  const coreRoute: RouteDecider = {
    decide: compilePolicy(opts.policy, undefined, logger),
    mode: opts.mode ?? 'enforce',
  };

  const cacheOpts = opts.cache === false ? undefined : { ...DEFAULT_CACHE, ...opts.cache };
  const cache =
    provider.remote && cacheOpts
      ? new LookupCache({
          store: cacheOpts.store ?? new MemoryStore({ max: cacheOpts.max, ttlMs: cacheOpts.ttlMs }),
          ttlMs: cacheOpts.ttlMs,
          storeTimeoutMs: cacheOpts.storeTimeoutMs,
          onStoreError: (operation, error) =>
            once.warn(
              'IPMATCH_STORE_UNAVAILABLE',
              `ipmatch: the cache store failed on ${operation}; checks carry on without it until it recovers`,
              { error: error instanceof Error ? error.message : String(error) },
            ),
        })
      : undefined;
  const scope = (provider as { cacheScope?: string }).cacheScope ?? provider.name;
  let closed = false;

  function finish(result: MatchResult, cached: boolean, extra: PhoneLookup | undefined, route: RouteDecider) {
    const policyAction = route.decide(result);
    const decision: IpMatchDecision = {
      action: applyMode(policyAction, route.mode),
      policyAction,
      ...result,
      cached,
    };
    if (extra?.cost) decision.cost = extra.cost;
    if (extra?.budgetExceeded) decision.budgetExceeded = true;
    if (onDecision) {
      try {
        onDecision(decision);
      } catch (err) {
        logger.error('ipmatch: onDecision threw; the request went on', {
          code: 'IPMATCH_ON_DECISION_THREW',
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    return decision;
  }

  function phoneFacts(parsed: ParsedPhone | null, lookup: PhoneLookup | undefined): PhoneFacts {
    if (!parsed) return { number: null, country: null, roamingCountry: null };
    const facts: PhoneFacts = {
      number: parsed.number,
      country: lookup ? lookup.country : parsed.country,
      roamingCountry: lookup ? lookup.roamingCountry : null,
    };
    if (lookup?.facts) Object.assign(facts, lookup.facts);
    else if (!lookup) facts.valid = parsed.valid;
    return facts;
  }

  async function lookupRemote(request: Omit<LookupRequest, 'signal' | 'deadline'>, start: number) {
    if (!cache) return { lookup: await runWithBudget(provider, request, start, timeoutMs), cached: false };
    const key = LookupCache.key(scope, request.phone.number, provider.keyIncludesIp ? request.ip : null);
    const hit = await cache.get(key);
    if (hit) return { lookup: hit, cached: true };
    const joined = cache.inflight(key);
    if (joined) return { lookup: await runWithBudget(joined, request, start, timeoutMs), cached: true };
    const lookup = runWithBudget(provider, request, start, timeoutMs);
    return { lookup: await cache.share(key, lookup), cached: false };
  }

  async function checkWith(input: CheckInput, route: RouteDecider | undefined): Promise<IpMatchDecision> {
    const r = route ?? coreRoute;
    const start = performance.now();
    const raw = (input ?? {}) as Partial<CheckInput>;
    const normIp = normalizeIp(raw.ip);
    const ip: IpFacts = { address: normIp.address, country: null };
    const parsed =
      typeof raw.phone === 'string'
        ? provider.parsePhone(raw.phone, regionHint(raw.country) ?? defaultCountry)
        : null;
    if (!parsed)
      return finish(
        { ...PHONE_INVALID, ip, phone: phoneFacts(null, undefined), provider: provider.name },
        false,
        undefined,
        r,
      );
    if (normIp.public && normIp.address) ip.country = provider.ipCountry(normIp.address);
    if (!normIp.public) {
      const m = matchCountries({
        ipPublic: false,
        ipCountry: null,
        phoneCountry: parsed.country,
        roamingCountry: null,
      });
      return finish(
        { ...m, ip, phone: phoneFacts(parsed, undefined), provider: provider.name },
        false,
        undefined,
        r,
      );
    }
    let lookup: PhoneLookup;
    let cached = false;
    try {
      const request = { phone: parsed, ip: normIp.address, clientIp: normIp.address };
      if (provider.remote) ({ lookup, cached } = await lookupRemote(request, start));
      else {
        const got = provider.lookup({ ...request, signal: NEVER, deadline: start + timeoutMs });
        lookup = got instanceof Promise ? await got : got;
      }
    } catch (err) {
      const { reason, error } = lookupError(err, timeoutMs);
      const phone = phoneFacts(parsed, undefined);
      return finish(
        { matchLevel: 'unknown', reason, ip, phone, provider: provider.name, error },
        false,
        undefined,
        r,
      );
    }
    if (lookup.legacyIp?.country) ip.country = lookup.legacyIp.country;
    const m = matchCountries({
      ipPublic: true,
      ipCountry: ip.country,
      phoneCountry: lookup.country,
      roamingCountry: lookup.roamingCountry,
      legacy: lookup.legacyIp?.matchLevel,
    });
    const result: MatchResult = {
      ...m,
      ip,
      phone: phoneFacts(parsed, lookup),
      provider: lookup.provider ?? provider.name,
    };
    return finish(result, cached, cached ? undefined : lookup, r);
  }

  const internals: CoreInternals = {
    checkWith: (input, route) =>
      checkWith(input, route).catch((err: unknown) => {
        // Unreachable by design; kept so that a bug can never reject into a request.
        logger.error('ipmatch: internal error during check', { error: String(err) });
        const phone = { number: null, country: null, roamingCountry: null };
        const ip = { address: null, country: null };
        const error = { code: 'internal_error', message: 'ipmatch internal error' };
        return finish(
          { matchLevel: 'unknown', reason: 'lookup_failed', ip, phone, provider: provider.name, error },
          false,
          undefined,
          route ?? coreRoute,
        );
      }),
    compileRoute(overrides) {
      const o = parseOptions(routeSchema, overrides, 'route options');
      if (o.policy === undefined && o.mode === undefined) return undefined;
      return {
        decide: compilePolicy(o.policy ?? opts.policy, opts.policy, logger),
        mode: o.mode ?? coreRoute.mode,
      };
    },
    mode: coreRoute.mode,
    logger,
    warnOnce: once.warn,
  };

  const core: IpMatchWithInternals = {
    check: (input) => internals.checkWith(input, undefined),
    async close() {
      if (closed) return;
      closed = true;
      cache?.clear();
      await provider.close?.();
    },
    [kInternals]: internals,
  };
  return core;
}

const NEVER = new AbortController().signal;

export type { Mode };
