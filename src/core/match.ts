/** Compares the IP's country with the phone's: the match level and its reason, before any policy. */
import type { MatchLevel, Reason } from './types.js';

/** The countries to compare, for a check whose IP is public (a check without one ends as `NOT_PUBLIC`). */
export interface MatchInput {
  ipCountry: string | null;
  phoneCountry: string | null;
  roamingCountry: string | null;
  /** Every country the phone roams in, when the provider names several (Identity Insights). */
  roamingCountries?: readonly string[] | undefined;
  /** Vonage's legacy `ip` verdict, where an account still gets one; it decides when it is not 'unknown'. */
  legacy?: MatchLevel | undefined;
}

export interface Match {
  matchLevel: MatchLevel;
  reason: Reason;
}

const COUNTRY: Match = { matchLevel: 'country', reason: 'country_match' };
const ROAMING: Match = { matchLevel: 'country', reason: 'roaming_match' };
const MISMATCH: Match = { matchLevel: 'mismatch', reason: 'country_mismatch' };
export const NOT_PUBLIC: Match = { matchLevel: 'unknown', reason: 'ip_not_public' };
const IP_UNKNOWN: Match = { matchLevel: 'unknown', reason: 'ip_country_unknown' };
const PHONE_UNKNOWN: Match = { matchLevel: 'unknown', reason: 'phone_country_unknown' };
export const PHONE_INVALID: Match = { matchLevel: 'unknown', reason: 'phone_invalid' };

/**
 * Compares the two countries. A phone roaming in the IP's country (any of them, when it roams in several) is a
 * match: the subscriber is where the IP says, even though the number's home is elsewhere.
 */
export function matchCountries(m: MatchInput): Match {
  if (m.legacy === 'country') return COUNTRY;
  if (m.legacy === 'mismatch') return MISMATCH;
  if (m.phoneCountry === null) return PHONE_UNKNOWN;
  if (m.ipCountry === null) return IP_UNKNOWN;
  if (m.phoneCountry === m.ipCountry) return COUNTRY;
  if (m.roamingCountry === m.ipCountry || m.roamingCountries?.includes(m.ipCountry)) return ROAMING;
  return MISMATCH;
}
