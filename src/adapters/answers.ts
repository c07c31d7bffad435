import { blockingSignals } from '../core/internal.js';
import { SIGNALS } from '../core/signals.js';
import type { IpMatchDecision, MatchLevel, Reason, Signal } from '../core/types.js';

type LevelCause = 'ip_phone_mismatch' | 'ip_phone_unverified' | 'ip_match_unavailable';

/** The default 403 body of a blocked request. */
export interface BlockBody {
  /** The cause: the match level's, or the signal that decided the block when the level alone would not have. */
  error: LevelCause | Signal;
  message: string;
  matchLevel: MatchLevel;
  reason: Reason;
}
/** The 400 body of a request without a plausible phone number. */
export interface InvalidPhoneBody {
  error: 'invalid_phone';
  message: string;
}

const BLOCK_MESSAGES: Record<LevelCause, string> = {
  ip_phone_mismatch: "The phone number's country does not match the country of your network connection.",
  ip_phone_unverified: "The phone number's country could not be checked against your network connection.",
  ip_match_unavailable: 'The phone number could not be checked right now. Please try again later.',
};

/** The default 403 body: its `error` names the cause. */
export function blockBody(decision: IpMatchDecision): BlockBody {
  const signal = blockingSignals.get(decision);
  if (signal) {
    const { matchLevel, reason } = decision;
    return { error: signal, message: SIGNALS[signal].message, matchLevel, reason };
  }
  const error = decision.error
    ? 'ip_match_unavailable'
    : decision.matchLevel === 'mismatch'
      ? 'ip_phone_mismatch'
      : 'ip_phone_unverified';
  return { error, message: BLOCK_MESSAGES[error], matchLevel: decision.matchLevel, reason: decision.reason };
}
