import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { IpMatchConfigError, ProviderError } from '../core/errors.js';
import { consoleLogger } from '../core/logger.js';
import { createPhoneParser } from '../core/phone.js';
import type { IpMatchProvider, LookupRequest, PhoneLookup } from '../core/provider.js';
import type { Logger } from '../core/types.js';
import { parseOptions } from '../core/validate.js';
import { CircuitBreaker } from './breaker.js';
import { openGeoIp } from './geoip.js';
import { LookupBudget, type LookupBudgetOptions } from './lookup-budget.js';
import { VonageHttp } from './vonage-http.js';
import {
  describeSchemaFailure,
  niResponseSchema,
  statusError,
  statusOutcome,
  toPhoneLookup,
} from './vonage-schema.js';

export type VonageLevel = 'basic' | 'standard' | 'advanced';

/**
 * Options of `vonageProvider()`. Only the credentials are required. `maxLookupsPerMinute` (default 600) and
 * `maxLookupsPerMinutePerIp` (default 10) cap the paid lookups; past them, checks are decided offline.
 */
export interface VonageProviderOptions extends LookupBudgetOptions {
  /** Vonage API key (e.g. `process.env.VONAGE_API_KEY`). */
  apiKey: string;
  /** Vonage API secret. Sent only in a Basic `Authorization` header; never in a URL, log line or error. */
  apiSecret: string;
  /** Number Insight level: Basic is free, Standard adds carrier and porting, Advanced adds validity, reachability and roaming. Default 'advanced'. */
  level?: VonageLevel;
  /** Where Number Insight lives (a proxy or the fake server in tests). Default 'https://api.nexmo.com'. */
  baseUrl?: string;
  /**
   * Send the client's public IP as Vonage's deprecated `ip` parameter, for accounts that still get a legacy
   * `ip` match back. The IP then joins the cache key. Advanced only. Default false.
   */
  sendIp?: boolean;
  /** Ask for the US caller name (`cnam=true`, charged extra); it goes on `decision.phone.callerIdentity`. Standard and Advanced only. Default false. */
  cnam?: boolean;
  /**
   * Most sockets kept open to Vonage (one keep-alive pool per provider). Lookups beyond it queue within the
   * check's budget: at Vonage's few-second latency, the pool bounds how many new numbers a second get an answer.
   * Default 64.
   */
  connections?: number;
  /** Warn (at most once an hour) when `remaining_balance` falls under this many EUR; `false` never warns. Default 1. */
  lowBalanceWarning?: number | false;
  /**
   * After `failures` consecutive upstream failures (timeouts, 5xx, network errors…), skip Vonage for
   * `cooldownMs`, then let one probe through. `false` turns the breaker off. Default `{ failures: 5, cooldownMs: 30_000 }`.
   */
  breaker?: { failures?: number; cooldownMs?: number } | false;
  /** The GeoIP data for the IP's country, as `localProvider({ database })`. Default: the bundled open data. */
  geoip?: { database?: string | Uint8Array };
}

const WHERE = 'vonageProvider options';
const HOUR_MS = 3_600_000;
/** Retry back-off for throttling: jittered so that many servers throttled together do not retry together. */
const BACKOFF_MIN_MS = 100;
const BACKOFF_SPREAD_MS = 200;
/** A retry is only worth it if at least this much budget is left after the back-off. */
const MIN_ATTEMPT_MS = 50;

const baseUrl = z.string().refine(
  (s) => {
    if (!URL.canParse(s)) return false;
    const u = new URL(s);
    return /^https?:$/.test(u.protocol) && !u.username && !u.password && !u.search && !u.hash;
  },
  { message: 'expected an http(s) URL without credentials, query or hash, such as "https://api.nexmo.com"' },
);

const perMinuteMessage = 'expected a whole number of lookups per minute (at least 1), or false for no limit';
const lookupsPerMinute = z.union(
  [
    z.number({ error: perMinuteMessage }).int(perMinuteMessage).min(1, perMinuteMessage),
    z.literal(false, { error: perMinuteMessage }),
  ],
  { error: perMinuteMessage },
);

const schema = z
  .strictObject({
    apiKey: z
      .string({ error: 'expected your Vonage API key as a string' })
      .min(1, 'expected a non-empty API key'),
    apiSecret: z
      .string({ error: 'expected your Vonage API secret as a string' })
      .min(1, 'expected a non-empty API secret'),
    level: z.enum(['basic', 'standard', 'advanced']).default('advanced'),
    baseUrl: baseUrl.default('https://api.nexmo.com'),
    sendIp: z.boolean().default(false),
    cnam: z.boolean().default(false),
    connections: z.number().int().min(1).max(1024).default(64),
    lowBalanceWarning: z.union([z.number().min(0), z.literal(false)]).default(1),
    breaker: z
      .union([
        z.literal(false),
        z.strictObject({
          failures: z.number().int().min(1).default(5),
          cooldownMs: z.number().int().min(1).default(30_000),
        }),
      ])
      .default({ failures: 5, cooldownMs: 30_000 }),
    geoip: z
      .strictObject({ database: z.union([z.string().min(1), z.instanceof(Uint8Array)]).optional() })
      .optional(),
    maxLookupsPerMinute: lookupsPerMinute.default(600),
    maxLookupsPerMinutePerIp: lookupsPerMinute.default(10),
  })
  .superRefine((o, ctx) => {
    if (o.sendIp && o.level !== 'advanced') {
      ctx.addIssue({ code: 'custom', path: ['sendIp'], message: `the ip parameter needs level 'advanced'` });
    }
    if (o.cnam && o.level === 'basic') {
      ctx.addIssue({ code: 'custom', path: ['cnam'], message: `cnam needs level 'standard' or 'advanced'` });
    }
  });

/**
 * parseOptions, except that no value which could hold the secret is echoed back: a config error ends up in
 * startup logs. That covers the secret itself (wrongly typed, or pasted into another option, where the
 * error would show it or its first characters) and `baseUrl`, whose user info or query may hold credentials.
 */
function parse(options: VonageProviderOptions) {
  try {
    return parseOptions(schema, options, WHERE);
  } catch (error) {
    if (!(error instanceof IpMatchConfigError)) throw error;
    const given = (options as { apiSecret?: unknown } | undefined)?.apiSecret;
    const secret = given === undefined || given === null || given === '' ? undefined : String(given);
    // parseOptions shortens long values, so even the start of the secret is enough to hide a value. Secrets
    // too short to search for are hidden where they are the value shown.
    const start = secret !== undefined && secret.length >= 8 ? secret.slice(0, 6) : undefined;
    const shown = secret === undefined ? undefined : `, got ${JSON.stringify(secret)}`;
    const problems = error.problems.map((p) => {
      const hides =
        p.startsWith('apiSecret:') ||
        p.startsWith('baseUrl:') ||
        (start !== undefined && p.includes(start)) ||
        (shown !== undefined && p.endsWith(shown));
      if (!hides) return p;
      const line = p.split(', got ')[0] ?? p;
      if (p.startsWith('apiSecret:') && secret !== undefined && line.includes(secret)) {
        return 'apiSecret: expected a non-empty string (value not shown)';
      }
      return secret !== undefined && start !== undefined ? line.replaceAll(secret, '[redacted]') : line;
    });
    throw new IpMatchConfigError(WHERE, problems);
  }
}

/** The breaker of one provider, logging when it opens and closes. */
function circuitBreaker(options: { failures: number; cooldownMs: number }, logger: Logger): CircuitBreaker {
  return new CircuitBreaker({
    ...options,
    onChange(state, failures) {
      if (state === 'open') {
        logger.warn(
          `ipmatch: Vonage circuit open after ${failures} consecutive failures; lookups skip Vonage for ${options.cooldownMs} ms`,
          { code: 'IPMATCH_CIRCUIT_OPEN' },
        );
      } else {
        logger.warn('ipmatch: Vonage circuit closed: a probe lookup succeeded', {
          code: 'IPMATCH_CIRCUIT_CLOSED',
        });
      }
    },
  });
}

/** The budget of one provider, warning once a minute (per limit) when it refuses lookups. */
function lookupBudget(perMinute: number | false, perMinutePerIp: number | false, logger: Logger) {
  if (perMinute === false && perMinutePerIp === false) return undefined;
  return new LookupBudget({
    perMinute,
    perMinutePerIp,
    onExceeded(limit, max) {
      const which =
        limit === 'ip'
          ? `one client IP reached maxLookupsPerMinutePerIp (${max})`
          : `all clients together reached maxLookupsPerMinute (${max})`;
      logger.warn(
        `ipmatch: Vonage lookup budget spent: ${which}; until the minute rolls on, its checks are decided on the ` +
          `offline data (provider 'local', budgetExceeded: true). Raise the limit if this is real traffic.`,
        { code: 'IPMATCH_LOOKUP_BUDGET', limit, max },
      );
    },
  });
}

/** What a check gets once the budget is spent: the offline facts, marked so that the core never caches them. */
function offline(request: LookupRequest): PhoneLookup {
  return {
    country: request.phone.country,
    roamingCountry: null,
    facts: { valid: request.phone.valid },
    budgetExceeded: true,
    provider: 'local',
  };
}

type Attempt =
  | { kind: 'data'; lookup: PhoneLookup }
  | { kind: 'throttled'; error: ProviderError; retryAfterS?: number };

/**
 * Phone facts from Vonage Number Insight v1 (country, roaming, carrier, validity…), the IP's country from
 * local GeoIP data. Failures throw ProviderError with a stable `code`; the core turns them into decisions.
 */
export function vonageProvider(options: VonageProviderOptions): IpMatchProvider {
  const opts = parse(options);
  let logger: Logger = consoleLogger;
  const forward: Logger = {
    warn: (m, meta) => logger.warn(m, meta),
    error: (m, meta) => logger.error(m, meta),
  };
  const geo = openGeoIp(opts.geoip ?? {}, forward);
  const parsePhone = createPhoneParser({});
  const http = new VonageHttp(opts);
  const closing = new AbortController();
  const breaker = opts.breaker === false ? undefined : circuitBreaker(opts.breaker, forward);
  const budget = lookupBudget(opts.maxLookupsPerMinute, opts.maxLookupsPerMinutePerIp, forward);
  let credentialsReported = false;
  let balanceWarnedAt = Number.NEGATIVE_INFINITY;

  function reportCredentials(): void {
    if (credentialsReported) return;
    credentialsReported = true;
    forward.error(
      'ipmatch: Vonage rejected the API key and secret; every Vonage lookup fails until they are fixed (check VONAGE_API_KEY / VONAGE_API_SECRET)',
      { code: 'IPMATCH_VONAGE_CREDENTIALS', apiKey: `${opts.apiKey.slice(0, 4)}…` },
    );
  }

  function watchBalance(remaining: string | null | undefined): void {
    if (opts.lowBalanceWarning === false || remaining == null) return;
    const balance = Number.parseFloat(remaining);
    const now = performance.now();
    if (!(balance < opts.lowBalanceWarning) || now - balanceWarnedAt < HOUR_MS) return;
    balanceWarnedAt = now;
    forward.warn(
      `ipmatch: Vonage balance is low: ${remaining} EUR left (warning under ${opts.lowBalanceWarning} EUR)`,
      { code: 'IPMATCH_VONAGE_LOW_BALANCE', remainingBalance: remaining },
    );
  }

  function path(request: LookupRequest): string {
    const query = new URLSearchParams({ number: request.phone.number.replace(/^\+/, '') });
    if (opts.sendIp && request.ip !== null) query.set('ip', request.ip);
    if (opts.cnam) query.set('cnam', 'true');
    return `/ni/${opts.level}/json?${query}`;
  }

  async function attempt(target: string, signal: AbortSignal): Promise<Attempt> {
    const res = await http.get(target, signal);
    if (res.statusCode === 429) {
      const error = new ProviderError('throttled', 'Vonage answered HTTP 429: too many requests');
      return { kind: 'throttled', error, retryAfterS: res.retryAfterS };
    }
    if (res.statusCode < 200 || res.statusCode > 299) {
      if (res.statusCode === 401) reportCredentials();
      throw new ProviderError(`http_${res.statusCode}`, `Vonage answered HTTP ${res.statusCode}`, {
        upstream: res.statusCode >= 500 || res.statusCode === 408,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(res.body);
    } catch {
      throw new ProviderError('invalid_response', 'Vonage answered with a body that is not JSON');
    }
    const parsed = niResponseSchema.safeParse(json);
    if (!parsed.success) throw new ProviderError('invalid_response', describeSchemaFailure(parsed.error));
    const status = parsed.data.status;
    const outcome = statusOutcome(status);
    if (outcome.kind === 'throttled') {
      const error = new ProviderError(
        'throttled',
        'Vonage answered status 1: throttled (too many requests per second)',
      );
      return { kind: 'throttled', error };
    }
    if (outcome.kind === 'error') {
      if (outcome.code === 'invalid_credentials') reportCredentials();
      throw statusError(status, outcome);
    }
    watchBalance(parsed.data.remaining_balance);
    return { kind: 'data', lookup: toPhoneLookup(parsed.data, { cnam: opts.cnam }) };
  }

  /** One attempt, and one retry after a jittered back-off when throttled and the budget still has room. */
  async function fetchLookup(request: LookupRequest): Promise<PhoneLookup> {
    const target = path(request);
    const started = performance.now();
    const first = await attempt(target, request.signal);
    if (first.kind === 'data') return first.lookup;
    const backoffMs =
      first.retryAfterS !== undefined && first.retryAfterS > 0
        ? first.retryAfterS * 1000
        : BACKOFF_MIN_MS + Math.random() * BACKOFF_SPREAD_MS;
    const took = performance.now() - started;
    if (request.deadline - performance.now() < backoffMs + Math.max(took, MIN_ATTEMPT_MS)) throw first.error;
    try {
      await sleep(backoffMs, undefined, { signal: AbortSignal.any([request.signal, closing.signal]) });
    } catch {
      if (closing.signal.aborted)
        throw new ProviderError('closed', 'the Vonage provider is closed', { upstream: false });
      throw new ProviderError('timeout', 'Vonage lookup cut by the time budget while waiting to retry');
    }
    const second = await attempt(target, request.signal);
    if (second.kind === 'data') return second.lookup;
    throw second.error;
  }

  return {
    name: 'vonage',
    remote: true,
    keyIncludesIp: opts.sendIp,
    // Levels answer with different facts (Basic has no roaming): a shared cache must not mix them.
    cacheScope: `vonage:${opts.level}`,
    attach(context) {
      logger = context.logger;
    },
    parsePhone,
    ipCountry: (address) => geo.country(address),
    lookup(request) {
      if (closing.signal.aborted) {
        return Promise.reject(
          new ProviderError('closed', 'the Vonage provider is closed', { upstream: false }),
        );
      }
      if (budget?.take(request.clientIp)) return offline(request);
      if (!breaker) return fetchLookup(request);
      return breaker
        .run(() => fetchLookup(request))
        .catch((error: unknown) => {
          // A refused call cost nothing, so it does not count against the budget.
          if (error instanceof ProviderError && error.code === 'circuit_open')
            budget?.refund(request.clientIp);
          throw error;
        });
    },
    async close() {
      closing.abort();
      await http.close();
    },
  };
}
