/** vonageProvider: Vonage Number Insight v1 (basic, standard, advanced) over Basic-auth HTTP. */
import * as z from 'zod/mini';
import { ProviderError } from '../core/errors.js';
import type { IpMatchProvider, LookupRequest } from '../core/provider.js';
import type { Logger } from '../core/types.js';
import { holdsSecrets, parseOptions } from '../core/validate.js';
import { baseUrlSchema, type RemoteProviderOptions, remoteOptionsShape } from './remote-options.js';
import { remoteProvider } from './remote-provider.js';
import {
  describeSchemaFailure,
  parseNiResponse,
  statusError,
  statusOutcome,
  toPhoneLookup,
} from './vonage-schema.js';

export type VonageLevel = 'basic' | 'standard' | 'advanced';

/**
 * Options of `vonageProvider()`. Only the credentials are required. `maxLookupsPerMinute` (default 600) and
 * `maxLookupsPerMinutePerIp` (default 10) cap the paid lookups; past them, checks are decided offline.
 */
export interface VonageProviderOptions extends RemoteProviderOptions {
  /** Vonage API key (e.g. `process.env.VONAGE_API_KEY`). */
  apiKey: string;
  /** Vonage API secret. Sent only in a Basic `Authorization` header; never in a URL, log line or error. */
  apiSecret: string;
  /** Number Insight level: Basic is free, Standard adds carrier and porting, Advanced adds validity, reachability and roaming. Default 'advanced'. */
  level?: VonageLevel | undefined;
  /** Where Number Insight lives (a proxy or the fake server in tests). Default 'https://api.nexmo.com'. */
  baseUrl?: string | undefined;
  /**
   * Send the client's public IP as Vonage's deprecated `ip` parameter, for accounts that still get a legacy
   * `ip` match back. The IP then joins the cache key. Advanced only. Default false.
   */
  sendIp?: boolean | undefined;
  /** Ask for the US caller name (`cnam=true`, charged extra); it goes on `decision.phone.callerIdentity`. Standard and Advanced only. Default false. */
  cnam?: boolean | undefined;
  /** Warn (at most once an hour) when `remaining_balance` falls under this many EUR; `false` never warns. Default 1. */
  lowBalanceWarning?: number | false | undefined;
  /** The clock for the Number Insight v1 shutdown notices, in ms since the epoch. Default `Date.now`. */
  now?: (() => number) | undefined;
}

const WHERE = 'vonageProvider options';
const HOUR_MS = 3_600_000;
/** Vonage shuts Number Insight v1 down on this day; ipmatch warns from a month before. */
export const NI_SHUTDOWN = '2027-02-04';
const NI_WARN_FROM = Date.parse('2027-01-05T00:00:00Z');
const NI_SHUTDOWN_AT = Date.parse(`${NI_SHUTDOWN}T00:00:00Z`);
const SHUTDOWN_NOTICE = `Vonage shuts Number Insight v1 down on ${NI_SHUTDOWN}: move to identityInsightsProvider() (see "From Number Insight v1 to Identity Insights" in ipmatch's docs)`;

// It holds apiSecret: a config error never shows a value it was given, in any option (baseUrl's too).
const schema = holdsSecrets(
  z
    .strictObject({
      apiKey: z
        .string({ error: 'expected your Vonage API key as a string' })
        .check(z.minLength(1, 'expected a non-empty API key')),
      apiSecret: z
        .string({ error: 'expected your Vonage API secret as a string' })
        .check(z.minLength(1, 'expected a non-empty API secret')),
      level: z._default(z.enum(['basic', 'standard', 'advanced']), 'advanced'),
      baseUrl: baseUrlSchema('https://api.nexmo.com'),
      sendIp: z._default(z.boolean(), false),
      cnam: z._default(z.boolean(), false),
      lowBalanceWarning: z._default(z.union([z.number().check(z.minimum(0)), z.literal(false)]), 1),
      now: z.optional(z.custom<() => number>((v) => typeof v === 'function', 'expected a function () => ms')),
      ...remoteOptionsShape,
    })
    .check(
      z.superRefine((o, ctx) => {
        if (o.sendIp && o.level !== 'advanced') {
          ctx.addIssue({
            code: 'custom',
            path: ['sendIp'],
            message: `the ip parameter needs level 'advanced'`,
          });
        }
        if (o.cnam && o.level === 'basic') {
          ctx.addIssue({
            code: 'custom',
            path: ['cnam'],
            message: `cnam needs level 'standard' or 'advanced'`,
          });
        }
      }),
    ),
);

/**
 * Phone facts from Vonage Number Insight v1 (country, roaming, carrier, validity…), the IP's country from
 * local GeoIP data. Failures throw ProviderError with a stable `code`; the core turns them into decisions.
 * Number Insight v1 shuts down on 2027-02-04: from a month before, this warns once and names its successor,
 * `identityInsightsProvider()`; after it, every lookup error says so.
 */
export function vonageProvider(options: VonageProviderOptions): IpMatchProvider {
  const opts = parseOptions(schema, options, WHERE);
  const now = opts.now ?? Date.now;
  // Base64 of the UTF-8 bytes, as Buffer would give, without Node's Buffer.
  const credentials = String.fromCharCode(...new TextEncoder().encode(`${opts.apiKey}:${opts.apiSecret}`));
  const authorization = `Basic ${btoa(credentials)}`;
  let balanceWarnedAt = Number.NEGATIVE_INFINITY;

  function watchBalance(remaining: string | null | undefined, logger: Logger): void {
    if (opts.lowBalanceWarning === false || remaining == null) return;
    const balance = Number.parseFloat(remaining);
    if (!(balance < opts.lowBalanceWarning)) return;
    const at = performance.now();
    if (at - balanceWarnedAt < HOUR_MS) return;
    balanceWarnedAt = at;
    logger.warn(
      `ipmatch: Vonage balance is low: ${remaining} EUR left (warning under ${opts.lowBalanceWarning} EUR)`,
      { code: 'IPMATCH_VONAGE_LOW_BALANCE', remainingBalance: remaining },
    );
  }

  // The query by hand: as URLSearchParams writes it for these values (digits, an IP), at a fraction of its cost.
  const base = `/ni/${opts.level}/json?number=`;
  const tail = opts.cnam ? '&cnam=true' : '';
  function path(request: LookupRequest): string {
    const number = encodeURIComponent(request.phone.number.replace(/^\+/, ''));
    const ip = opts.sendIp && request.ip !== null ? `&ip=${encodeURIComponent(request.ip)}` : '';
    return base + number + ip + tail;
  }

  const provider = remoteProvider(opts, {
    name: 'vonage',
    label: 'Vonage',
    // Levels answer with different facts (Basic has no roaming): a shared cache must not mix them.
    cacheScope: `vonage:${opts.level}`,
    keyIncludesIp: opts.sendIp,
    request: (request) => ({ method: 'GET', path: path(request) }),
    authorization: () => authorization,
    credentials: {
      message:
        'ipmatch: Vonage rejected the API key and secret; every Vonage lookup fails until they are fixed (check VONAGE_API_KEY / VONAGE_API_SECRET)',
      meta: { apiKey: `${opts.apiKey.slice(0, 4)}…` },
    },
    read(json, _request, logger) {
      const parsed = parseNiResponse(json);
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
      if (outcome.kind === 'error') throw statusError(status, outcome);
      watchBalance(parsed.data.remaining_balance, logger);
      return { kind: 'data', lookup: toPhoneLookup(parsed.data, { cnam: opts.cnam }) };
    },
    mapError(error) {
      if (!(error instanceof ProviderError) || now() < NI_SHUTDOWN_AT) return error;
      return new ProviderError(error.code, `${error.message}. ${SHUTDOWN_NOTICE}`, {
        upstream: error.upstream,
      });
    },
  });

  const attach = provider.attach;
  return {
    ...provider,
    attach(context) {
      attach?.(context);
      if (now() >= NI_WARN_FROM) {
        context.logger.warn(`ipmatch: ${SHUTDOWN_NOTICE}`, { code: 'IPMATCH_VONAGE_NI_SHUTDOWN' });
      }
    },
  };
}
