import type { IpMatchDecision, MatchLevel, Reason } from '../core/types.js';

/** The default 403 body of a blocked request. */
export interface BlockBody {
  error: 'ip_phone_mismatch' | 'ip_phone_unverified' | 'ip_match_unavailable';
  message: string;
  matchLevel: MatchLevel;
  reason: Reason;
}
/** The 400 body of a request without a plausible phone number. */
export interface InvalidPhoneBody {
  error: 'invalid_phone';
  message: string;
}

const BLOCK_MESSAGES: Record<BlockBody['error'], string> = {
  ip_phone_mismatch: "The phone number's country does not match the country of your network connection.",
  ip_phone_unverified: "The phone number's country could not be checked against your network connection.",
  ip_match_unavailable: 'The phone number could not be checked right now. Please try again later.',
};

/** The default 403 body: its `error` names the cause. */
export function blockBody(decision: IpMatchDecision): BlockBody {
  const error = decision.error
    ? 'ip_match_unavailable'
    : decision.matchLevel === 'mismatch'
      ? 'ip_phone_mismatch'
      : 'ip_phone_unverified';
  return { error, message: BLOCK_MESSAGES[error], matchLevel: decision.matchLevel, reason: decision.reason };
}
