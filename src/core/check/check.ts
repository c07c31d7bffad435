/**
 * The check spine: parse → locate → look up → match → signals → policy → decision. It stays synchronous until
 * something really is asynchronous (a remote lookup, a source that reads a store), so the offline provider
 * decides without a promise.
 */
import { lookupError } from '../budget.js';
import { normalizeIp } from '../ip.js';
import { type Match, matchCountries, NOT_PUBLIC, PHONE_INVALID } from '../match.js';
import { regionHint } from '../options.js';
import { phoneType } from '../phone-type.js';
import type { CompiledPolicy } from '../policy.js';
import type { IpMatchProvider, ParsedPhone, PhoneLookup } from '../provider.js';
import { offlineLookup, remoteIsDown } from '../remote-down.js';
import type { RouteSignalOptions, SignalContext, SignalSource, SourceFindings } from '../signal-source.js';
import type { Signal } from '../signals.js';
import type { CheckInput, IpFacts, Mode, PhoneFacts } from '../types.js';
import { buildDecision, type Checked } from './decision.js';
import type { CachedLookup } from './lookup.js';
import { collectSignals, type OnSourceError } from './signals.js';

export type { Checked } from './decision.js';

/** A route as the check needs it, compiled once when its middleware is built (or the core's own). */
export interface CompiledRoute {
  policy: CompiledPolicy;
  mode: Mode;
  /** The signal sources that run on this route, compiled for it. */
  sources: readonly SignalSource[];
  signalOptions: RouteSignalOptions;
  /** The sources among them that `locate` the IP (set `ip.network`…), so that the spine loops over only those. */
  locators?: readonly SignalSource[];
  /** Whether a source on this route reads `phone.type` (its `needs.phoneType`): only then is it computed. */
  phoneType?: boolean;
}

export interface CheckDeps {
  provider: IpMatchProvider;
  /** The remote provider's lookup through the cache; undefined for an in-process provider. */
  remoteLookup: CachedLookup | undefined;
  defaultCountry: string | undefined;
  timeoutMs: number;
  /** 'offline': a remote provider that is down leaves the decision to the offline data (`degraded`). */
  remoteDown: 'offline' | 'error';
  onSourceError: OnSourceError;
  now(): number;
}

export type Check = (input: CheckInput, route: CompiledRoute) => Checked | Promise<Checked>;

/** Compiles the check once per core. It may throw `PhoneParserLoading` (see safe.ts); nothing else, by design. */
export function createCheck(deps: CheckDeps): Check {
  const { provider, remoteLookup, defaultCountry, timeoutMs, onSourceError, now } = deps;
  // A provider without `lookup` (the offline one) is matched on its parse: its lookup would only restate it.
  const lookup = provider.lookup?.bind(provider);

  function check(input: CheckInput, route: CompiledRoute): Checked | Promise<Checked> {
    // Parse: the phone as E.164 and its region, or null when it is no plausible phone number.
    const raw = input?.phone;
    const parsed =
      typeof raw === 'string' ? provider.parsePhone(raw, regionHint(input.country) ?? defaultCountry) : null;
    // Locate: the canonical IP, and its country when it is public.
    const ip = normalizeIp(input?.ip);
    const ipFacts: IpFacts = { address: ip.address, country: null, network: null };
    if (!parsed) return conclude(route, PHONE_INVALID, ipFacts, noPhone());
    if (!ip.public || ip.address === null) return conclude(route, NOT_PUBLIC, ipFacts, parsedFacts(parsed));
    const address = ip.address;
    ipFacts.country = provider.ipCountry(address);
    if (route.locators) locate(route.locators, ipFacts);
    // Look up, then match.
    if (!lookup) return matched(route, parsed, ipFacts, undefined, false);
    if (remoteLookup) {
      return remoteLookup({ phone: parsed, ip: address, clientIp: address }, performance.now()).then(
        (got) => matched(route, parsed, ipFacts, got.lookup, got.cached),
        (err: unknown) => failed(route, err, parsed, ipFacts),
      );
    }
    let got: PhoneLookup | Promise<PhoneLookup>;
    try {
      const deadline = performance.now() + timeoutMs;
      got = lookup({ phone: parsed, ip: address, clientIp: address, signal: never(), deadline });
    } catch (err) {
      return failed(route, err, parsed, ipFacts);
    }
    if (!(got instanceof Promise)) return matched(route, parsed, ipFacts, got, false);
    return got.then(
      (found) => matched(route, parsed, ipFacts, found, false),
      (err: unknown) => failed(route, err, parsed, ipFacts),
    );
  }

  /** Runs the route's locators; one that throws breaks its contract, is logged once and skipped. */
  function locate(locators: readonly SignalSource[], ip: IpFacts): void {
    for (let i = 0; i < locators.length; i++) {
      try {
        locators[i]!.locate!(ip);
      } catch (err) {
        onSourceError(locators[i]!, err);
      }
    }
  }

  /** Every tail of a check that has a phone and a public IP: the lookup's facts (or the parse's) matched. */
  function matched(
    route: CompiledRoute,
    parsed: ParsedPhone,
    ip: IpFacts,
    found: PhoneLookup | undefined,
    cached: boolean,
    error?: { code: string; message: string },
  ): Checked | Promise<Checked> {
    if (!found) {
      const m = matchCountries({ ipCountry: ip.country, phoneCountry: parsed.country, roamingCountry: null });
      return conclude(route, m, ip, parsedFacts(parsed));
    }
    if (found.legacyIp?.country) ip.country = found.legacyIp.country;
    const m = matchCountries({
      ipCountry: ip.country,
      phoneCountry: found.country,
      roamingCountry: found.roamingCountry,
      roamingCountries: found.facts?.roamingCountries,
      legacy: found.legacyIp?.matchLevel,
    });
    return conclude(route, m, ip, lookedUpFacts(parsed, found), found, cached, error);
  }

  /** A lookup that failed: the offline data decides when the remote provider is down, else the `error` policy. */
  function failed(
    route: CompiledRoute,
    err: unknown,
    parsed: ParsedPhone,
    ip: IpFacts,
  ): Checked | Promise<Checked> {
    const { reason, error } = lookupError(err, timeoutMs);
    if (provider.remote && deps.remoteDown === 'offline' && remoteIsDown(err, reason)) {
      return matched(route, parsed, ip, offlineLookup(parsed), false, error);
    }
    const m: Match = { matchLevel: 'unknown', reason };
    return conclude(route, m, ip, parsedFacts(parsed), undefined, false, error);
  }

  /** Signals, then the policy, then the decision. */
  function conclude(
    route: CompiledRoute,
    match: Match,
    ip: IpFacts,
    phone: PhoneFacts,
    found?: PhoneLookup,
    cached = false,
    error?: { code: string; message: string },
  ): Checked | Promise<Checked> {
    if (route.phoneType && phone.number !== null && phone.valid !== false) {
      phone.type = phoneType(phone.number, phone.country);
    }
    if (route.sources.length === 0) {
      const signals = found?.signals ? [...found.signals] : [];
      return decide(route, match, ip, phone, found, cached, error, signals);
    }
    const ipPublic = match !== NOT_PUBLIC && match !== PHONE_INVALID;
    const ctx: SignalContext = { phone, ip, route: route.signalOptions, ipPublic, now, velocity: undefined };
    const signals = collectSignals(route.sources, ctx, found?.signals, onSourceError);
    // No closure on the synchronous path: the offline check allocates only what the decision holds.
    if (!(signals instanceof Promise))
      return decide(route, match, ip, phone, found, cached, error, signals, ctx);
    return signals.then((s) => decide(route, match, ip, phone, found, cached, error, s, ctx));
  }

  /** The policy, then the decision, from one object (buildDecision). */
  function decide(
    route: CompiledRoute,
    match: Match,
    ip: IpFacts,
    phone: PhoneFacts,
    looked: PhoneLookup | undefined,
    cached: boolean,
    error: { code: string; message: string } | undefined,
    signals: Signal[],
    found?: SourceFindings,
  ): Checked {
    return buildDecision({
      match,
      ip,
      phone,
      provider: looked?.provider ?? provider.name,
      cached,
      signals,
      error,
      lookup: looked,
      found,
      policy: route.policy,
      mode: route.mode,
    });
  }

  return check;
}

/** The phone side as parsed locally: before (or without) a provider lookup. */
function parsedFacts(parsed: ParsedPhone): PhoneFacts {
  return {
    number: parsed.number,
    country: parsed.country,
    roamingCountry: null,
    type: null,
    valid: parsed.valid,
  };
}

/** The phone side as the provider saw it, with whatever extra facts it found. */
function lookedUpFacts(parsed: ParsedPhone, lookup: PhoneLookup): PhoneFacts {
  const facts: PhoneFacts = {
    number: parsed.number,
    country: lookup.country,
    roamingCountry: lookup.roamingCountry,
    type: null,
  };
  if (lookup.facts) {
    for (const key in lookup.facts) {
      const value = lookup.facts[key as keyof typeof lookup.facts];
      if (value !== undefined) (facts as unknown as Record<string, unknown>)[key] = value;
    }
  }
  return facts;
}

const noPhone = (): PhoneFacts => ({ number: null, country: null, roamingCountry: null, type: null });

let neverAborts: AbortSignal | undefined;
/** The signal of an in-process lookup, which nothing aborts. Made on first use: Workers refuse it at import. */
const never = () => (neverAborts ??= new AbortController().signal);
