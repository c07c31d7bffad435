/** Tells an outage of a remote provider from a failure that must stay an error, and what decides instead. */
import { ProviderError } from './errors.js';
import type { ParsedPhone, PhoneLookup } from './provider.js';
import type { Reason } from './types.js';

/**
 * Whether a failed lookup means the remote provider is down, so that the offline data can decide: the check's
 * time budget ran out, the circuit breaker is open, or the failure says something about the upstream's health
 * (`ProviderError.upstream`: a 5xx or 408, a 429 or throttling status, a network error, a malformed answer).
 * An attacker can cause each of these, by load or by luck. What stays an error is what only the operator can
 * cause or fix, and must stay loud: rejected credentials (401, 403, status 4), an account out of credit or not
 * allowed the API, a request the API refuses, a closed provider, and any other exception of a custom provider.
 */
export function remoteIsDown(error: unknown, reason: Reason): boolean {
  if (reason === 'lookup_timeout') return true;
  if (!(error instanceof ProviderError)) return false;
  return error.code === 'circuit_open' || error.upstream;
}

/** The lookup the offline provider would make: the parsed phone's own country, no roaming, marked degraded. */
export function offlineLookup(phone: ParsedPhone): PhoneLookup {
  return {
    country: phone.country,
    roamingCountry: null,
    facts: { valid: phone.valid },
    provider: 'local',
    degraded: true,
  };
}
