/** identityInsightsProvider: Vonage Identity Insights (roaming, SIM swap) over JWT-signed HTTP. */
import * as z from 'zod/mini';
import { IpMatchConfigError, ProviderError } from '../core/errors.js';
import type { IpMatchProvider, LookupRequest } from '../core/provider.js';
import { holdsSecrets, parseOptions, wholeNumber } from '../core/validate.js';
import {
  describeErrorBody,
  type InsightName,
  parseIiResponse,
  toPhoneLookup,
} from './identity-insights-schema.js';
import { createJwtSigner, PrivateKeyError } from './jwt.js';
import { baseUrlSchema, type RemoteProviderOptions, remoteOptionsShape } from './remote-options.js';
import { remoteProvider } from './remote-provider.js';
import { describeSchemaFailure } from './vonage-schema.js';

/**
 * Options of `identityInsightsProvider()`. Only the Vonage application's id and private key are required.
 * `maxLookupsPerMinute` (default 600) and `maxLookupsPerMinutePerIp` (default 10) cap the paid lookups; past
 * them, checks are decided offline.
 */
export interface IdentityInsightsProviderOptions extends RemoteProviderOptions {
  /**
   * The Vonage application's id, a UUID such as `'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee'` (the dashboard's
   * Applications page; e.g. `process.env.VONAGE_APPLICATION_ID`). Anything else is a config error that does not
   * show it: a private key pasted here must not reach a log.
   */
  applicationId: string;
  /**
   * PEM of the application's RSA private key (e.g. `fs.readFileSync(process.env.VONAGE_PRIVATE_KEY_PATH)`). It
   * signs short-lived JWTs and appears in no request, log line, error, decision or store.
   */
  privateKey: string | Uint8Array;
  /** Where Identity Insights lives: `https://api-eu.vonage.com` (default) or `https://api-us.vonage.com`, a proxy, or the fake server in tests. */
  baseUrl?: string | undefined;
  /**
   * Why the lookup is made: one of the application's network profile purposes, a name in letters such as
   * 'FraudPreventionAndDetection' (optionally with CAMARA's `dpv:` prefix). Default 'FraudPreventionAndDetection'.
   */
  purpose?: string | undefined;
  /**
   * The insights asked for beside `format` and `current_carrier` (always asked). `roaming` (default true) needs
   * operator approval and covers some operators only; `simSwap` (default `{ periodHours: 240 }`, 1 to 2400) reports
   * a SIM swapped within the period as the `sim_swapped` signal; `false` turns it off.
   */
  insights?:
    | { roaming?: boolean | undefined; simSwap?: false | { periodHours?: number | undefined } | undefined }
    | undefined;
  /**
   * How long roaming facts are kept, in ms: only in this process's cache, never in a shared `Store`, as some
   * countries forbid persisting them. At most and by default 300 000 (5 minutes).
   */
  roamingTtlMs?: number | undefined;
  /** Clock in ms since the epoch for the JWTs' `iat` and `exp`. Default `Date.now`. */
  now?: (() => number) | undefined;
}

const WHERE = 'identityInsightsProvider options';
const PATH = '/identity-insights/v1/requests';
const ROAMING_TTL_MS = 300_000;

/** Vonage application ids are UUIDs. */
const APPLICATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A network profile purpose is a name in letters (W3C DPV's), with or without CAMARA's `dpv:` prefix. */
const PURPOSE = /^(?:dpv:)?[A-Za-z]{2,64}$/;
const APPLICATION_ID_EXPECTED =
  'expected your Vonage application id, a UUID such as "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee" (the dashboard\'s Applications page)';

// It holds privateKey: a config error never shows a value it was given, in any option.
const schema = holdsSecrets(
  z.strictObject({
    applicationId: z.string({ error: APPLICATION_ID_EXPECTED }).check(
      z.trim(),
      z.refine((s) => APPLICATION_ID.test(s), {
        error: (issue) =>
          typeof issue.input === 'string' && /PRIVATE KEY|^-----BEGIN/.test(issue.input)
            ? `${APPLICATION_ID_EXPECTED}; this looks like a private key, which goes in privateKey`
            : APPLICATION_ID_EXPECTED,
      }),
    ),
    privateKey: z.union([z.string().check(z.minLength(1)), z.instanceof(Uint8Array)], {
      error: 'expected the PEM text of the application private key, as a string or a Buffer',
    }),
    baseUrl: baseUrlSchema('https://api-eu.vonage.com'),
    purpose: z._default(
      z.string().check(
        z.refine((s) => PURPOSE.test(s), {
          message:
            'expected one of the application\'s network profile purposes, a name such as "FraudPreventionAndDetection"',
        }),
      ),
      'FraudPreventionAndDetection',
    ),
    insights: z._default(
      z.strictObject({
        roaming: z._default(z.boolean(), true),
        simSwap: z._default(
          z.union([z.literal(false), z.strictObject({ periodHours: z._default(wholeNumber(1, 2400), 240) })]),
          { periodHours: 240 },
        ),
      }),
      { roaming: true, simSwap: { periodHours: 240 } },
    ),
    roamingTtlMs: z._default(wholeNumber(1, ROAMING_TTL_MS), ROAMING_TTL_MS),
    now: z.optional(z.custom<() => number>((v) => typeof v === 'function', 'expected a function () => ms')),
    ...remoteOptionsShape,
  }),
);

/**
 * Phone facts from Vonage Identity Insights, Number Insight v1's successor: the country (format), carrier and
 * network type (current_carrier), roaming countries and SIM swap; the IP's country from local GeoIP data.
 * An insight that fails (no coverage, not approved…) only leaves its facts out, named in
 * `phone.missingInsights`; HTTP errors, timeouts and malformed answers are the check's `error`.
 */
export function identityInsightsProvider(options: IdentityInsightsProviderOptions): IpMatchProvider {
  const opts = parseOptions(schema, options, WHERE);
  const pem =
    typeof opts.privateKey === 'string' ? opts.privateKey : new TextDecoder().decode(opts.privateKey);
  let signer: ReturnType<typeof createJwtSigner>;
  try {
    signer = createJwtSigner({
      applicationId: opts.applicationId,
      privateKey: pem,
      ...(opts.now ? { now: opts.now } : {}),
    });
  } catch (error) {
    if (error instanceof PrivateKeyError)
      throw new IpMatchConfigError(WHERE, [`privateKey: ${error.message}`]);
    throw error;
  }
  const { roaming, simSwap } = opts.insights;
  const asked: InsightName[] = ['format', 'current_carrier'];
  const insights: Record<string, object> = { format: {}, current_carrier: {} };
  if (roaming) {
    asked.push('roaming');
    insights.roaming = {};
  }
  if (simSwap) {
    asked.push('sim_swap');
    insights.sim_swap = { period: simSwap.periodHours };
  }

  // The body as JSON.stringify writes it, with all but the number written once: it is sent on every lookup.
  const rest = `,"purpose":${JSON.stringify(opts.purpose)},"insights":${JSON.stringify(insights)}}`;
  const body = (request: LookupRequest) =>
    `{"phone_number":${JSON.stringify(request.phone.number.replace(/^\+/, ''))}${rest}`;
  // One header string per token (a token lasts minutes), not a new 700-character string per lookup.
  let bearer = { token: '', header: '' };
  const header = (token: string) => {
    if (bearer.token !== token) bearer = { token, header: `Bearer ${token}` };
    return bearer.header;
  };

  return remoteProvider(opts, {
    name: 'vonage-identity-insights',
    label: 'Vonage Identity Insights',
    // What was asked changes what an answer holds: a shared cache must not mix answers to different questions.
    cacheScope: `vonage-ii:${asked.join('+')}${simSwap ? `:${simSwap.periodHours}h` : ''}`,
    keyIncludesIp: false,
    ...(roaming ? { roamingTtlMs: opts.roamingTtlMs } : {}),
    request: (request) => ({ method: 'POST', path: PATH, body: body(request) }),
    authorization() {
      const token = signer.token();
      return typeof token === 'string' ? header(token) : token.then(header);
    },
    credentials: {
      message:
        "ipmatch: Vonage Identity Insights rejected the JWT; every lookup fails until it is fixed (check VONAGE_APPLICATION_ID, the private key, and this server's clock)",
      // Its first group names the application well enough to tell which one; the rest need not reach a log.
      meta: { applicationId: `${opts.applicationId.slice(0, 8)}…` },
    },
    describeError: describeErrorBody,
    read(json, request) {
      const parsed = parseIiResponse(json);
      if (!parsed.success) throw new ProviderError('invalid_response', describeSchemaFailure(parsed.error));
      return { kind: 'data', lookup: toPhoneLookup(parsed.data, asked, request.phone) };
    },
  });
}
