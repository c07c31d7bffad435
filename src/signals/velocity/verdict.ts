/** From one check's counts to its velocity signals: each fires when its count, this request included, is more than max. */
import type { Signal } from '../../core/signals.js';
import type { VelocitySettings } from '../../core/velocity-options.js';
import { lowConversion } from './conversion.js';

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

/** The families' signals that fire, by bit (ip 1, subnet 2, phone 4, prefix 8, conversion 16): frozen, made once. */
const BY_MASK: readonly (readonly Signal[])[] = Array.from({ length: 32 }, (_, mask) =>
  mask === 0 ? NONE : Object.freeze(VELOCITY_SIGNALS.slice(0, 5).filter((_, bit) => (mask >> bit) & 1)),
);

/**
 * The signals of one check's counts, for one source's settings: each threshold is read once here, so that a check
 * reads none of the settings' objects (in a live server each would be a cache miss). `sent` and `verified` are the
 * block's conversion counts, `sent` -1 when not counted. The answer is a frozen list shared between checks (the
 * check copies what a source answers into its own).
 */
export function verdictFor(
  s: VelocitySettings,
): (
  ip: number,
  subnet: number,
  phoneCountries: number,
  prefix: number,
  sent: number,
  verified: number,
) => readonly Signal[] {
  const ipMax = s.ip === false ? Number.POSITIVE_INFINITY : s.ip.max;
  const subnetMax = s.subnet === false ? Number.POSITIVE_INFINITY : s.subnet.max;
  const phoneMax = s.phone === false ? Number.POSITIVE_INFINITY : s.phone.maxCountries;
  const prefixMax = s.prefix === false ? Number.POSITIVE_INFINITY : s.prefix.max;
  return (ip, subnet, phoneCountries, prefix, sent, verified) => {
    let mask = 0;
    if (ip > ipMax) mask |= 1;
    if (subnet > subnetMax) mask |= 2;
    if (phoneCountries > phoneMax) mask |= 4;
    if (prefix > prefixMax) mask |= 8;
    if (sent >= 0 && lowConversion(sent, verified)) mask |= 16;
    return BY_MASK[mask]!;
  };
}
