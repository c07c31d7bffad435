/** The core's wiring: options validated once, the check compiled, routes compiled over it; `ready` and `close`. */
import * as z from 'zod/mini';
import { type CompiledRoute, createCheck } from './check/check.js';
import { remoteLookupFor } from './check/lookup.js';
import { safeCheck } from './check/safe.js';
import type { CoreInternals, IpMatchWithInternals, RouteOverrides } from './internal.js';
import { kInternals } from './internal.js';
import { consoleLogger, onceLogger } from './logger.js';
import { createNotifier } from './notify.js';
import {
  DEFAULT_CACHE,
  DEFAULT_TIMEOUT_MS,
  type IpMatchOptions,
  modeSchema,
  type ParsedCoreOptions,
  parseCoreOptions,
  policySchema,
} from './options.js';
import { loadFullParser, PhoneParserLoading } from './phone.js';
import { compilePolicy } from './policy.js';
import type { IpMatchProvider } from './provider.js';
import { SENDS_OTP_RAISE } from './sends-otp.js';
import type { RouteSignalOptions, SignalSource } from './signal-source.js';
import type { IpMatch, Logger, Policy } from './types.js';
import { parseOptions } from './validate.js';

/**
 * What the entry point supplies: the provider when the options name none, and the signal sources (or a function
 * of the core's provider and logger that gives them: the IP-nature family reads the provider's `ipNature`).
 */
export interface CoreDefaults {
  provider(): IpMatchProvider;
  signals:
    | readonly SignalSource[]
    | ((provider: IpMatchProvider, logger: Logger, core: CoreSetup) => readonly SignalSource[]);
  /** The clock of the checks and their sources (ms since the epoch). Default `Date.now`; tests inject one. */
  now?: (() => number) | undefined;
}

/** What a family built per core reads of it: its validated options, its once-per-core warnings and its clock. */
export interface CoreSetup {
  options: ParsedCoreOptions;
  warnOnce(code: string, message: string, meta?: object): void;
  now(): number;
}

const routeSchema = z.object({ policy: z.optional(policySchema), mode: z.optional(modeSchema) });
const NO_IP_HEADER: RouteSignalOptions = Object.freeze({ readsIpHeader: false });
/** Whether a source of the route reads `phone.type`: only then does a check compute it. */
const needsPhoneType = (sources: readonly SignalSource[]) => sources.some((s) => s.needs?.phoneType === true);

/**
 * Builds the framework-free core. Options are validated here, once; `check()` never throws or rejects. Users call
 * `createIpMatch` from 'ipmatch', which supplies the defaults.
 */
export function createCore(options: IpMatchOptions, defaults: CoreDefaults): IpMatch {
  const opts = parseCoreOptions(options);
  const logger = opts.logger ?? consoleLogger;
  const once = onceLogger(logger);
  const provider = opts.provider ?? defaults.provider();
  provider.attach?.({ logger });
  const now = defaults.now ?? Date.now;
  const offered =
    typeof defaults.signals === 'function'
      ? defaults.signals(provider, logger, { options: opts, warnOnce: once.warn, now })
      : defaults.signals;
  const hearsVerified = offered.filter((s) => s.verified !== undefined);
  // A source that reads only a lookup's facts has nothing to read from a provider without one.
  const signals = offered.filter((s) => s.needs?.lookup !== true || typeof provider.lookup === 'function');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const cacheSettings = opts.cache === false ? undefined : { ...DEFAULT_CACHE, ...opts.cache };
  const remote = remoteLookupFor(provider, cacheSettings, timeoutMs, logger, once.warn);
  const notifier = opts.onDecision ? createNotifier(opts.onDecision, logger) : undefined;
  const check = createCheck({
    provider,
    remoteLookup: remote?.lookup,
    defaultCountry: opts.defaultCountry,
    timeoutMs,
    remoteDown: opts.remoteDown ?? 'offline',
    onSourceError: (source, error) =>
      once.error(
        `IPMATCH_SIGNAL_SOURCE_THREW_${source.name.toUpperCase().replace(/\W/g, '_')}`,
        `ipmatch: the ${source.name} signals threw; checks go on without them`,
        {
          error: error instanceof Error ? error.message.slice(0, 200) : typeof error,
        },
      ),
    now,
  });
  const run = safeCheck(check, provider.name, logger, notifier);

  /** The route's sources: each compiled for it, or left out where it does not run. */
  const sourcesFor = (signalOptions: RouteSignalOptions) =>
    signals.flatMap((s) => {
      const compiled = s.forRoute ? s.forRoute(signalOptions) : s;
      return compiled ? [compiled] : [];
    });
  const mode = opts.mode ?? 'enforce';
  const coreSignals: RouteSignalOptions = Object.freeze({
    readsIpHeader: false,
    sendsOtp: opts.sendsOtp,
    phoneCountries: opts.phoneCountries,
  });
  /** The policy of a route: `sendsOtp` raises its defaults (SENDS_OTP_RAISE), under the core's and route's maps. */
  const policyFor = (policy: Policy | undefined, sendsOtp: boolean | undefined) => {
    const raise = sendsOtp ? SENDS_OTP_RAISE : undefined;
    return policy === undefined
      ? compilePolicy(opts.policy, undefined, logger, raise)
      : compilePolicy(policy, opts.policy, logger, raise);
  };
  const coreRoute: CompiledRoute = {
    policy: policyFor(undefined, opts.sendsOtp),
    mode,
    sources: sourcesFor(coreSignals),
    signalOptions: coreSignals,
  };
  coreRoute.phoneType = needsPhoneType(coreRoute.sources);
  coreRoute.locators = locatorsOf(coreRoute.sources);

  const internals: CoreInternals = {
    check: (input, route, request) => run(input, route, request),
    compileRoute(overrides: RouteOverrides) {
      const o = parseOptions(
        routeSchema,
        { policy: overrides.policy, mode: overrides.mode },
        'route options',
      );
      const given = overrides.signals ?? NO_IP_HEADER;
      const sameAsCore = given.sendsOtp === undefined && given.phoneCountries === undefined;
      if (o.policy === undefined && o.mode === undefined && !given.readsIpHeader && sameAsCore)
        return coreRoute;
      // A route's sendsOtp and phoneCountries replace the core's; without them it keeps the core's.
      const signalOptions: RouteSignalOptions = {
        ...given,
        sendsOtp: given.sendsOtp ?? opts.sendsOtp,
        phoneCountries: given.phoneCountries ?? opts.phoneCountries,
      };
      const route: CompiledRoute = {
        policy:
          o.policy === undefined && signalOptions.sendsOtp === opts.sendsOtp
            ? coreRoute.policy
            : policyFor(o.policy, signalOptions.sendsOtp),
        mode: o.mode ?? mode,
        sources: sourcesFor(signalOptions),
        signalOptions,
      };
      route.phoneType = needsPhoneType(route.sources);
      route.locators = locatorsOf(route.sources);
      return route;
    },
    observed: notifier !== undefined,
    mode,
    defaultCountry: opts.defaultCountry,
    logger,
    warnOnce: once.warn,
  };

  let closed = false;
  const core: IpMatchWithInternals = {
    // Not an async function: an offline check decides synchronously, and awaiting it cost a second promise and a
    // resumption per check. A throw still becomes a rejection, as in an async function.
    check(input) {
      try {
        const checked = run(input, coreRoute);
        return checked instanceof Promise
          ? checked.then((done) => done.decision)
          : Promise.resolve(checked.decision);
      } catch (err) {
        return Promise.reject(err);
      }
    },
    async verified(phone) {
      if (typeof phone !== 'string' || hearsVerified.length === 0) return;
      const parsed = await parseOnce(provider, phone, opts.defaultCountry);
      if (parsed === null) return;
      await Promise.all(hearsVerified.map((s) => heard(s, parsed.number)));
    },
    async ready() {
      // The built-in providers' full phone parser is loaded on first need; a warmed server has it already.
      await Promise.all([provider.ready?.(), loadFullParser(), ...signals.map((s) => s.ready?.())]);
    },
    async close() {
      if (closed) return;
      closed = true;
      remote?.cache?.clear();
      // A decision log flushes here, so that the last decisions reach the file before the process exits.
      await Promise.all([provider.close?.(), notifier?.close(), ...signals.map((s) => s.close?.())]);
    },
    [kInternals]: internals,
  };
  return core;
}

/** A number as E.164, or null: when only the full parser can read it, wait for that once, as a check would. */
async function parseOnce(provider: IpMatchProvider, phone: string, region: string | undefined) {
  try {
    return provider.parsePhone(phone, region);
  } catch (err) {
    if (!(err instanceof PhoneParserLoading)) return null;
    try {
      await err.loaded;
      return provider.parsePhone(phone, region);
    } catch {
      return null;
    }
  }
}

/** One source told of a verification; whatever it throws stays here (verified() never rejects). */
async function heard(source: SignalSource, number: string): Promise<void> {
  try {
    await source.verified!(number);
  } catch {
    // A source's `verified` never throws by contract; a broken one must not reach the caller either.
  }
}

/** The sources that locate the IP: the spine runs them after GeoIP, and only those. Undefined when none do. */
function locatorsOf(sources: readonly SignalSource[]): readonly SignalSource[] | undefined {
  const locators = sources.filter((s) => s.locate !== undefined);
  return locators.length > 0 ? locators : undefined;
}
