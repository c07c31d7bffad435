/** One decision-log line from a decision: countries and outcomes, never the number or the address. */
import ipaddr from 'ipaddr.js';
import { requireBuiltin } from '../core/builtins.js';
import type {
  Action,
  DecisionContext,
  IpMatchDecision,
  MatchLevel,
  PhoneType,
  Reason,
  VelocityCounts,
} from '../core/types.js';

/**
 * One line of the decision log. It holds countries and outcomes, never a phone number or an IP address: both
 * are personal data, and the log is kept for weeks. `ipmatch report` reads these lines.
 */
export interface DecisionLine {
  /** ISO 8601, UTC. */
  time: string;
  route: string | null;
  method: string | null;
  action: Action;
  policyAction: Action;
  matchLevel: MatchLevel;
  reason: Reason;
  signals: string[];
  ipCountry: string | null;
  /** The IP-nature list that matched (`aws`, `tor`, `icloud-private-relay`…): a provider's name, not a person's. */
  ipNetwork: string | null;
  phoneCountry: string | null;
  /** The kind of number (`mobile`, `premium_rate`…): it names a range of numbers, not a person. */
  phoneType: PhoneType | null;
  roamingCountry: string | null;
  provider: string;
  cached: boolean;
  errorCode: string | null;
  durationMs: number;
  /** Present when the remote provider was down and the offline data decided (the decision's `degraded`). */
  degraded?: true;
  /**
   * The velocity counts of the check, when it counted (the decision's `velocity`): four numbers, never the keys
   * they were counted under.
   */
  velocity?: VelocityCounts;
  /** With `keySecret`: an HMAC of the E.164 number, so that a report can count repeats without the number. */
  phoneKey?: string;
  /**
   * With `keySecret`: a keyed label of the number's block (the E.164 number without its last `prefixDigits`
   * digits, 3 by default as velocity's `prefix_burst` counts), under a key of its own, so that it cannot be
   * joined to `phoneKey`. A report ranks blocks by it without holding any prefix.
   */
  prefixKey?: string;
  /** With `ipPrefix`: the address's /24 (IPv4) or /48 (IPv6) network. */
  ipPrefix?: string;
}

/** The /24 of an IPv4 address or the /48 of an IPv6 one, from the decision's canonical address. */
export function networkOf(address: string): string {
  if (!address.includes(':')) return `${address.slice(0, address.lastIndexOf('.'))}.0/24`;
  const [a = 0, b = 0, c = 0] = ipaddr.IPv6.parse(address).parts;
  return `${new ipaddr.IPv6([a, b, c, 0, 0, 0, 0, 0]).toRFC5952String()}/48`;
}

/** The keyed labels of a line: `phone` gives `phoneKey`, `prefix` gives `prefixKey`. */
export interface LineKeys {
  phone(number: string): string;
  /** Undefined for a number too short to have a block. */
  prefix(number: string): string | undefined;
}

/** Digits `prefixKey` drops from the end of the number by default: blocks of 1,000, as `prefix_burst` counts. */
export const PREFIX_DIGITS = 3;
/** Derives the prefix label's own key from `keySecret`: the two HMACs share no key, so their outputs never meet. */
const PREFIX_KEY_CONTEXT = 'ipmatch decision-log prefixKey v1';

/**
 * HMAC-SHA256 of the number under `secret`, and of its block under a key derived from `secret` for that use
 * alone; 128 bits in hex each: enough to tell numbers (and blocks) apart, useless to reverse.
 */
export function lineKeys(secret: string, prefixDigits = PREFIX_DIGITS): LineKeys {
  const { createHmac } = requireBuiltin('node:crypto', 'decisionLog() needs node:crypto for keySecret');
  const prefixSecret = createHmac('sha256', secret).update(PREFIX_KEY_CONTEXT).digest();
  return {
    phone: (number) => createHmac('sha256', secret).update(number).digest('hex').slice(0, 32),
    prefix: (number) =>
      // '+' and at least two digits of the block besides those dropped.
      number.length < prefixDigits + 3
        ? undefined
        : createHmac('sha256', prefixSecret)
            .update(number.slice(0, -prefixDigits))
            .digest('hex')
            .slice(0, 32),
  };
}

/**
 * The log line of a decision. Fields are copied one by one: a spread or a JSON of the decision would carry the
 * number and the address into the file.
 */
export function decisionLine(
  decision: IpMatchDecision,
  context: DecisionContext,
  keys: LineKeys | undefined,
  withPrefix: boolean,
): DecisionLine {
  const line: DecisionLine = {
    time: new Date().toISOString(),
    route: context.route,
    method: context.method,
    action: decision.action,
    policyAction: decision.policyAction,
    matchLevel: decision.matchLevel,
    reason: decision.reason,
    signals: [...decision.signals],
    ipCountry: decision.ip.country,
    ipNetwork: decision.ip.network,
    phoneCountry: decision.phone.country,
    phoneType: decision.phone.type,
    roamingCountry: decision.phone.roamingCountry,
    provider: decision.provider,
    cached: decision.cached,
    errorCode: decision.error?.code ?? null,
    durationMs: Math.round(context.durationMs * 1000) / 1000,
  };
  if (decision.degraded) line.degraded = true;
  const { velocity } = decision;
  if (velocity) {
    line.velocity = {
      ip: velocity.ip,
      subnet: velocity.subnet,
      phoneCountries: velocity.phoneCountries,
      prefix: velocity.prefix,
    };
  }
  const { number } = decision.phone;
  if (keys && number !== null) {
    line.phoneKey = keys.phone(number);
    const prefixKey = keys.prefix(number);
    if (prefixKey !== undefined) line.prefixKey = prefixKey;
  }
  if (withPrefix && decision.ip.address !== null) line.ipPrefix = networkOf(decision.ip.address);
  return line;
}
