/** What-if policies: what each candidate policy would have blocked, per route. */
import type { WhatIfPolicy } from './figures.js';
import type { LoggedDecision } from './parse-line.js';

/** A policy replayed over the log: which decisions it would have blocked. */
export interface Candidate extends WhatIfPolicy {
  blocks(d: LoggedDecision): boolean;
}

/**
 * The policy in force, then the standard candidates from lenient to strict. Invalid phones are left out of
 * every candidate: enforce mode answers them 400 whatever the policy.
 */
export const CANDIDATES: readonly Candidate[] = [
  {
    id: 'in_force',
    label: 'The policy in force',
    blocks: (d) => d.policyAction === 'block',
  },
  {
    id: 'mismatch',
    label: 'Block mismatches (a phone roaming in the IP country passes)',
    blocks: (d) => d.matchLevel === 'mismatch',
  },
  {
    id: 'mismatch_and_roaming',
    label: 'Block mismatches, roaming matches too',
    blocks: (d) => d.matchLevel === 'mismatch' || d.reason === 'roaming_match',
  },
  {
    id: 'mismatch_and_unknown',
    label: 'Block mismatches and unknown (not provider errors)',
    blocks: (d) =>
      d.matchLevel === 'mismatch' ||
      (d.matchLevel === 'unknown' && d.errorCode === null && d.reason !== 'phone_invalid'),
  },
];

/**
 * Whether `policy: { [signal]: 'block' }` would block this decision, were it to carry the signal: the policy did not
 * block it already, and it is not an invalid phone (which enforce mode answers 400 whatever the policy).
 */
export const signalBlockWouldAdd = (d: LoggedDecision): boolean =>
  d.policyAction !== 'block' && d.reason !== 'phone_invalid';
