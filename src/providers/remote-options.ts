/** The options both Vonage providers share (base URL, connections, breaker, budget, geoip), with their schema. */
import * as z from 'zod/mini';
import { wholeNumber } from '../core/validate.js';
import type { LookupBudgetOptions } from './lookup-budget.js';

/** The options every Vonage provider shares: where it calls, how many sockets, the breaker, the budgets, the GeoIP data. */
export interface RemoteProviderOptions extends LookupBudgetOptions {
  /**
   * Most sockets kept open to Vonage (one keep-alive pool per provider). Lookups beyond it queue within the
   * check's budget: at Vonage's few-second latency, the pool bounds how many new numbers a second get an answer.
   * Default 64.
   */
  connections?: number | undefined;
  /**
   * After `failures` consecutive upstream failures (timeouts, 5xx, network errors…), skip Vonage for
   * `cooldownMs`, then let one probe through. `false` turns the breaker off. Default `{ failures: 5, cooldownMs: 30_000 }`.
   */
  breaker?: { failures?: number | undefined; cooldownMs?: number | undefined } | false | undefined;
  /** The GeoIP data for the IP's country, as `localProvider({ database })`. Default: the bundled open data. */
  geoip?: { database?: string | Uint8Array | undefined } | undefined;
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
