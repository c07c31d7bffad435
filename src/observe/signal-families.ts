/** Which family each signal belongs to: the one table the report's sections (terminal, JSON, page) are cut by. */
import type { Signal } from '../core/signals.js';

/** A family of signals, as the report groups them: what the signal says something about. */
export type SignalFamily = 'client_ip' | 'ip_nature' | 'number' | 'velocity' | 'sim_swap';

/** Signals in a log that this table does not know (a newer ipmatch's, a hand-written line's). */
export const OTHER_FAMILY = 'other';

/** The families in the order the report shows them, each with its section's title. */
export const FAMILIES: readonly { readonly family: SignalFamily; readonly title: string }[] = [
  { family: 'client_ip', title: 'The client IP' },
  { family: 'ip_nature', title: 'What kind of IP (hosting, Tor, VPN, iCloud Private Relay)' },
  { family: 'number', title: 'The number (its type, the phone-country lists)' },
  { family: 'velocity', title: 'Velocity (numbers per IP, subnet and block; countries per number)' },
  { family: 'sim_swap', title: 'SIM swap' },
];

/**
 * Every signal of core/signals.ts' SIGNALS and its family. `satisfies` makes a signal added there without a row
 * here a compile error, so no signal falls into "other" by omission.
 */
const TABLE = {
  ip_missing: 'client_ip',
  hosting: 'ip_nature',
  tor_exit: 'ip_nature',
  vpn: 'ip_nature',
  private_relay: 'ip_nature',
  premium_rate_number: 'number',
  shared_cost_number: 'number',
  sms_incapable_number: 'number',
  voip_number: 'number',
  country_not_allowed: 'number',
  ip_velocity: 'velocity',
  subnet_velocity: 'velocity',
  phone_velocity: 'velocity',
  prefix_burst: 'velocity',
  low_conversion_prefix: 'velocity',
  velocity_unavailable: 'velocity',
  sim_swapped: 'sim_swap',
} as const satisfies Record<Signal, SignalFamily>;

// A Map: a signal read from a log may be spelled "__proto__" or "toString".
const FAMILY_OF: ReadonlyMap<string, SignalFamily> = new Map(Object.entries(TABLE));

/** The family of a signal name, or "other" for a name the table does not know. */
export function familyOf(signal: string): SignalFamily | typeof OTHER_FAMILY {
  return FAMILY_OF.get(signal) ?? OTHER_FAMILY;
}
