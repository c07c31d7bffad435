/** The `velocity` option: its types with each default, its schema (validated at construction) and its defaults. */
import ipaddr from 'ipaddr.js';
import * as z from 'zod/mini';
import type { Store } from './store.js';
import { wholeNumber } from './validate.js';

/** One distinct counter: more than `max` distinct members within `windowMs` fires its signal. */
export interface VelocityWindow {
  /** The sliding window, in ms. */
  windowMs?: number | undefined;
  /** The signal fires when the count, this request included, is more than this. */
  max?: number | undefined;
}

/**
 * Velocity: distinct counts over sliding windows, for the SMS-pumping signals. Every checked request with a
 * plausible phone number counts, blocked ones included. Each counter can be tuned or turned off (`false`).
 */
export interface VelocityOptions {
  /** `ip_velocity`: distinct numbers from one IP (IPv4 /32, IPv6 /64). Default `{ windowMs: 600_000, max: 3 }`. */
  ip?: false | VelocityWindow | undefined;
  /** `subnet_velocity`: distinct numbers from one IPv4 /24 or IPv6 /48. Default `{ windowMs: 600_000, max: 10 }`. */
  subnet?: false | VelocityWindow | undefined;
  /**
   * `phone_velocity`: distinct IP countries one number was seen from (an IP of unknown country does not count).
   * Default `{ windowMs: 86_400_000, maxCountries: 2 }`.
   */
  phone?: false | { windowMs?: number | undefined; maxCountries?: number | undefined } | undefined;
  /**
   * `prefix_burst`: distinct numbers in one block, the E.164 number without its last `digits` digits (1 to 6).
   * Default `{ windowMs: 3_600_000, max: 4, digits: 3 }`. `low_conversion_prefix` uses the same block.
   */
  prefix?: false | (VelocityWindow & { digits?: number | undefined }) | undefined;
  /** IPs and CIDRs that never count for `ip` and `subnet` (offices, test rigs): `['203.0.113.7', '2001:db8::/32']`. Default none. */
  allow?: string[] | undefined;
  /**
   * Where the counts live: a Store with `distinct` (`RedisStore`) counts across a fleet. Default: `cache.store`
   * when it has `distinct`, else memory (per process; a warning says so once under NODE_ENV=production).
   */
  store?: Store | undefined;
  /** Budget of the store's call per check, in ms; past it the check gets `velocity_unavailable`. Default 50. */
  timeoutMs?: number | undefined;
}

type Window = { windowMs: number; max: number };

/** Every default of `velocity`, as documented on VelocityOptions. */
export const VELOCITY_DEFAULTS: {
  readonly ip: Readonly<Window>;
  readonly subnet: Readonly<Window>;
  readonly phone: Readonly<{ windowMs: number; maxCountries: number }>;
  readonly prefix: Readonly<Window & { digits: number }>;
  readonly timeoutMs: number;
} = Object.freeze({
  ip: Object.freeze({ windowMs: 600_000, max: 3 }),
  subnet: Object.freeze({ windowMs: 600_000, max: 10 }),
  phone: Object.freeze({ windowMs: 86_400_000, maxCountries: 2 }),
  prefix: Object.freeze({ windowMs: 3_600_000, max: 4, digits: 3 }),
  timeoutMs: 50,
});

/** Windows from a second to a week; thresholds from 1 to 10 000. */
const windowMs = z.optional(wholeNumber(1000, 7 * 86_400_000));
const max = z.optional(wholeNumber(1, 10_000));
const counter = z.union([z.literal(false), z.strictObject({ windowMs, max })]);

/** An address and its prefix length: one entry of `allow`, parsed. */
export type AllowRange = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * An IP or CIDR of `allow`, parsed with ipaddr.js; undefined when it is neither. IPv4 must be a strict dotted
 * quad (ipaddr.js alone reads '1.2.3' as 1.2.0.3 and '010.1.1.1' as octal). An IPv4-mapped IPv6 entry
 * (`::ffff:203.0.113.0/120`) is its IPv4 range, since checks see IPv4 clients unwrapped.
 */
export function parseAllowEntry(entry: string): AllowRange | undefined {
  const text = entry.trim();
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  if (!address.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(address)) return undefined;
  try {
    const [ip, bits] = slash === -1 ? single(ipaddr.parse(address)) : ipaddr.parseCIDR(text);
    if (ip instanceof ipaddr.IPv6 && ip.isIPv4MappedAddress() && bits >= 96)
      return [ip.toIPv4Address(), bits - 96];
    return [ip, bits];
  } catch {
    return undefined;
  }
}

const single = (ip: ipaddr.IPv4 | ipaddr.IPv6): AllowRange => [ip, ip.kind() === 'ipv4' ? 32 : 128];

const allowList = z.array(z.string()).check(
  z.superRefine((list, ctx) => {
    list.forEach((entry, i) => {
      if (parseAllowEntry(entry) !== undefined) return;
      ctx.addIssue({
        code: 'custom',
        message: `expected an IP or a CIDR such as "203.0.113.7" or "203.0.113.0/24"; "${entry.slice(0, 60)}" is neither`,
        path: [i],
        input: entry,
      });
    });
  }),
);

const storeWithDistinct = z.custom<Store>(
  (v) => typeof v === 'object' && v !== null && typeof (v as Store).distinct === 'function',
  { message: 'expected a Store with distinct(ops), such as new RedisStore({ client })' },
);

export const velocitySchema = z.union(
  [
    z.literal(false),
    z.strictObject({
      ip: z.optional(counter),
      subnet: z.optional(counter),
      phone: z.optional(
        z.union([
          z.literal(false),
          z.strictObject({ windowMs, maxCountries: z.optional(wholeNumber(1, 250)) }),
        ]),
      ),
      prefix: z.optional(
        z.union([
          z.literal(false),
          z.strictObject({
            windowMs,
            max,
            digits: z.optional(
              z
                .number()
                .check(
                  z.int('digits: expected a whole number of trailing digits, from 1 to 6'),
                  z.minimum(1, 'expected 1 to 6 trailing digits (3 makes blocks of 1,000 numbers)'),
                  z.maximum(6, 'expected 1 to 6 trailing digits (3 makes blocks of 1,000 numbers)'),
                ),
            ),
          }),
        ]),
      ),
      allow: z.optional(allowList),
      store: z.optional(storeWithDistinct),
      timeoutMs: z.optional(wholeNumber(1, 10_000)),
    }),
  ],
  { error: 'expected false (off) or an object such as { ip: { max: 5 }, allow: ["203.0.113.0/24"] }' },
);

/** The options with every default filled in: what the velocity source is built from, once per core. */
export interface VelocitySettings {
  ip: false | { windowMs: number; max: number };
  subnet: false | { windowMs: number; max: number };
  phone: false | { windowMs: number; maxCountries: number };
  prefix: false | { windowMs: number; max: number; digits: number };
  allow: readonly AllowRange[];
  store: Store | undefined;
  timeoutMs: number;
}

/** Fills in the defaults of validated options; `cacheStore` stands in for `store` when it can count. */
export function velocitySettings(
  options: Exclude<VelocityOptions, false> | undefined,
  cacheStore: Store | undefined,
): VelocitySettings {
  const o = options ?? {};
  const d = VELOCITY_DEFAULTS;
  const merge = <T extends object>(given: false | Partial<T> | undefined, defaults: T): false | T =>
    given === false ? false : ({ ...defaults, ...strip(given) } as T);
  return {
    ip: merge(o.ip, d.ip),
    subnet: merge(o.subnet, d.subnet),
    phone: merge(o.phone, d.phone),
    prefix: merge(o.prefix, d.prefix),
    allow: (o.allow ?? []).map((entry) => parseAllowEntry(entry)!),
    store: o.store ?? (typeof cacheStore?.distinct === 'function' ? cacheStore : undefined),
    timeoutMs: o.timeoutMs ?? d.timeoutMs,
  };
}

/** The fields given, without those explicitly undefined (which keep their default). */
function strip<T extends object>(given: T | undefined): Partial<T> {
  const out: Partial<T> = {};
  if (given)
    for (const [k, v] of Object.entries(given)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
