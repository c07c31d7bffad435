/** Builds a decision from what one check found, in one place: each new field of the decision is one line here. */
import type { Match } from '../match.js';
import { applyMode, type CompiledPolicy } from '../policy.js';
import type { PhoneLookup } from '../provider.js';
import type { SourceFindings } from '../signal-source.js';
import type { Signal } from '../signals.js';
import type { IpFacts, IpMatchDecision, MatchResult, Mode, PhoneFacts } from '../types.js';

/** A decision, and the signal that caused its block when the match level alone would not have (see Verdict). */
export interface Checked {
  decision: IpMatchDecision;
  cause: Signal | null;
}

/** Everything a decision is made of. */
export interface DecisionParts {
  match: Match;
  ip: IpFacts;
  phone: PhoneFacts;
  /** The name of what answered: the provider's, or the lookup's own ('local' when the offline data stood in). */
  provider: string;
  /** true when this check made no provider call of its own. */
  cached: boolean;
  /** The signals present; the decision takes this array as it is. */
  signals: Signal[];
  /** Set when the provider failed (kept when the offline data decided instead: `lookup.degraded`). */
  error?: { code: string; message: string } | undefined;
  /** The provider's lookup, for the facts beside the match: cost, budget, degraded. */
  lookup?: PhoneLookup | undefined;
  /** What the signal sources found beside their signals (the velocity counts); undefined when none ran. */
  found?: SourceFindings | undefined;
  policy: CompiledPolicy;
  mode: Mode;
}

/**
 * Applies the policy, once, and writes the decision. Objects are written out field by field, in one order,
 * rather than spread: on the hot path a spread costs more than the whole match.
 */
export function buildDecision(parts: DecisionParts): Checked {
  const { match, ip, phone, provider, signals, error, lookup } = parts;
  const degraded = lookup?.degraded === true;
  const result: MatchResult = {
    matchLevel: match.matchLevel,
    reason: match.reason,
    ip,
    phone,
    provider,
    signals,
  };
  if (error) result.error = error;
  if (degraded) result.degraded = true;
  const velocity = parts.found?.velocity;
  if (velocity) result.velocity = velocity;
  const { action: policyAction, cause } = parts.policy.decide(result);
  const decision: IpMatchDecision = {
    action: applyMode(policyAction, parts.mode),
    policyAction,
    matchLevel: match.matchLevel,
    reason: match.reason,
    ip,
    phone,
    provider,
    signals,
    cached: parts.cached,
  };
  if (error) decision.error = error;
  if (lookup?.cost && !parts.cached) decision.cost = lookup.cost;
  if (lookup?.budgetExceeded) decision.budgetExceeded = true;
  if (degraded) decision.degraded = true;
  if (velocity) decision.velocity = velocity;
  return { decision, cause };
}
