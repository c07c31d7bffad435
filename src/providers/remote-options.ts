import * as z from 'zod/mini';
import { IpMatchConfigError } from '../core/errors.js';
import { parseOptions, wholeNumber } from '../core/validate.js';
import type { LookupBudgetOptions } from './lookup-budget.js';

/** The options every Vonage provider shares: where it calls, how many sockets, the breaker, the budgets, the GeoIP data. */
export interface RemoteProviderOptions extends LookupBudgetOptions {
  /**
   * Most sockets kept open to Vonage (one keep-alive pool per provider). Lookups beyond it queue within the
   * check's budget: at Vonage's few-second latency, the pool bounds how many new numbers a second get an answer.
   * Default 64.
   */
  connections?: number;
  /**
   * After `failures` consecutive upstream failures (timeouts, 5xx, network errors…), skip Vonage for
   * `cooldownMs`, then let one probe through. `false` turns the breaker off. Default `{ failures: 5, cooldownMs: 30_000 }`.
   */
  breaker?: { failures?: number; cooldownMs?: number } | false;
  /** The GeoIP data for the IP's country, as `localProvider({ database })`. Default: the bundled open data. */
  geoip?: { database?: string | Uint8Array };
}

const perMinuteMessage = 'expected a whole number of lookups per minute (at least 1), or false for no limit';
const lookupsPerMinute = z.union(
  [
    z.number({ error: perMinuteMessage }).check(z.int(perMinuteMessage), z.minimum(1, perMinuteMessage)),
    z.literal(false, { error: perMinuteMessage }),
  ],
  { error: perMinuteMessage },
);

/** An http(s) base URL, with its default; no user info, query or hash (where credentials would hide). */
export function baseUrlSchema(example: string) {
  return z._default(
    z.string().check(
      z.refine(
        (s) => {
          if (!URL.canParse(s)) return false;
          const u = new URL(s);
          return /^https?:$/.test(u.protocol) && !u.username && !u.password && !u.search && !u.hash;
        },
        { message: `expected an http(s) URL without credentials, query or hash, such as "${example}"` },
      ),
    ),
    example,
  );
}

/** The zod shape of RemoteProviderOptions, with its defaults. */
export const remoteOptionsShape = {
  connections: z._default(wholeNumber(1, 1024), 64),
  breaker: z._default(
    z.union([
      z.literal(false),
      z.strictObject({
        failures: z._default(wholeNumber(1), 5),
        cooldownMs: z._default(wholeNumber(1), 30_000),
      }),
    ]),
    { failures: 5, cooldownMs: 30_000 },
  ),
  geoip: z.optional(
    z.strictObject({
      database: z.optional(z.union([z.string().check(z.minLength(1)), z.instanceof(Uint8Array)])),
    }),
  ),
  maxLookupsPerMinute: z._default(lookupsPerMinute, 600),
  maxLookupsPerMinutePerIp: z._default(lookupsPerMinute, 10),
};

export interface ParsedRemoteOptions {
  baseUrl: string;
  connections: number;
  breaker: { failures: number; cooldownMs: number } | false;
  geoip?: { database?: string | Uint8Array | undefined } | undefined;
  maxLookupsPerMinute: number | false;
  maxLookupsPerMinutePerIp: number | false;
}

/**
 * parseOptions, except that no value which could hold the secret is echoed back: a config error ends up in
 * startup logs. That covers the secret itself (wrongly typed, or pasted into another option, where the error
 * would show it or its first characters) and `baseUrl`, whose user info or query may hold credentials.
 */
export function parseWithSecret<S extends z.ZodMiniType>(
  schema: S,
  options: unknown,
  where: string,
  secretField: string,
): z.output<S> {
  try {
    return parseOptions(schema, options, where);
  } catch (error) {
    if (!(error instanceof IpMatchConfigError)) throw error;
    const given = (options as Record<string, unknown> | undefined)?.[secretField];
    const secret = given === undefined || given === null || given === '' ? undefined : String(given);
    // parseOptions shortens long values, so even the start of the secret is enough to hide a value. Secrets
    // too short to search for are hidden where they are the value shown.
    const start = secret !== undefined && secret.length >= 8 ? secret.slice(0, 6) : undefined;
    const shown = secret === undefined ? undefined : `, got ${JSON.stringify(secret)}`;
    const problems = error.problems.map((p) => {
      const hides =
        p.startsWith(`${secretField}:`) ||
        p.startsWith('baseUrl:') ||
        (start !== undefined && p.includes(start)) ||
        (shown !== undefined && p.endsWith(shown));
      if (!hides) return p;
      const line = p.split(', got ')[0] ?? p;
      if (p.startsWith(`${secretField}:`) && secret !== undefined && line.includes(secret)) {
        return `${secretField}: expected a non-empty string (value not shown)`;
      }
      return secret !== undefined && start !== undefined ? line.replaceAll(secret, '[redacted]') : line;
    });
    throw new IpMatchConfigError(where, problems);
  }
}
