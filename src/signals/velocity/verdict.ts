/** From one check's counts to its velocity signals: each fires when its count, this request included, is more than max. */
import type { Signal } from '../../core/signals.js';
import type { VelocityCounts } from '../../core/types.js';
import { lowConversion } from './conversion.js';
import type { VelocitySettings } from './options.js';

const NONE: readonly Signal[] = Object.freeze([]);
export const UNAVAILABLE: readonly Signal[] = Object.freeze(['velocity_unavailable'] as const);
export const NO_SIGNALS = NONE;

/** Every signal of the family, in the order a decision lists them. */
export const VELOCITY_SIGNALS: readonly Signal[] = Object.freeze([
  'ip_velocity',
  'subnet_velocity',
  'phone_velocity',
  'prefix_burst',
  'low_conversion_prefix',
  'velocity_unavailable',
] as const);

/**
 * How many members a counter keeps per key: twice its threshold and at least 10, so that the decision log shows
 * how far past the threshold a key went (the counts read the cap beyond that) while memory stays bounded.
 */
export const capFor = (max: number): number => Math.max(10, 2 * max + 1);

/** The signals of one check's counts (`sent`, `verified`: its block's conversion, -1 when not counted). */
export function verdict(
  s: VelocitySettings,
  counts: VelocityCounts,
  sent: number,
  verified: number,
): readonly Signal[] {
  const ip = s.ip !== false && counts.ip > s.ip.max;
  const subnet = s.subnet !== false && counts.subnet > s.subnet.max;
  const phone = s.phone !== false && counts.phoneCountries > s.phone.maxCountries;
  const prefix = s.prefix !== false && counts.prefix > s.prefix.max;
  const conversion = sent >= 0 && lowConversion(sent, verified);
  if (!(ip || subnet || phone || prefix || conversion)) return NONE;
  const found: Signal[] = [];
  if (ip) found.push('ip_velocity');
  if (subnet) found.push('subnet_velocity');
  if (phone) found.push('phone_velocity');
  if (prefix) found.push('prefix_burst');
  if (conversion) found.push('low_conversion_prefix');
  return found;
}
