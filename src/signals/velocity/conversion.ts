/** `low_conversion_prefix`: a number block that was sent many codes and verified few of them (core.verified). */
import type { Signal } from '../../core/signals.js';

/**
 * Codes sent and verifications are counted per block as distinct numbers over 24 hours: a user who asks for the
 * code again, or enters it twice, counts once, so resends do not look like pumping.
 */
export const CONVERSION = Object.freeze({
  windowMs: 86_400_000,
  /** The block must have been sent codes to at least this many numbers before its conversion is judged. */
  minSent: 20,
  /** Fewer verified than this share of the numbers sent a code fires the signal. */
  minRatio: 0.2,
  /** Numbers remembered per block and counter: the ratio is over the newest 200 at most. */
  cap: 200,
});

export const LOW_CONVERSION: readonly Signal[] = Object.freeze(['low_conversion_prefix'] as const);

/** Whether a block with `sent` numbers sent a code and `verified` numbers verified converts too little. */
export const lowConversion = (sent: number, verified: number): boolean =>
  sent >= CONVERSION.minSent && verified < CONVERSION.minRatio * sent;
