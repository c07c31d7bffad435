import { ACTIONS, DEFAULT_POLICY } from './options.js';
import { mostSevere, type Signal } from './signals.js';
import type { Action, Logger, MatchResult, Mode, Policy, PolicyMap } from './types.js';

export type Decide = (result: MatchResult) => Action;

/** A policy compiled once: its action for a result, and which signal (if any) made that action a block. */
export interface CompiledPolicy {
  decide: Decide;
  /**
   * The first present signal whose own action is `block`, when the match level's own action is not: the 403
   * then names that signal. Undefined when the level decided the block (or nothing blocks). Called only for a
   * blocked result with signals, so a policy function runs again only then.
   */
  blockedBy(result: MatchResult): Signal | undefined;
}

const isAction = (v: unknown): v is Action => (ACTIONS as readonly unknown[]).includes(v);

/** The map in force: `overrides` over `base` over the defaults. */
export function mergePolicy(base: Policy | undefined, overrides: PolicyMap | undefined): Required<PolicyMap> {
  return { ...DEFAULT_POLICY, ...(typeof base === 'object' ? base : {}), ...overrides };
}

/**
 * A map's action: the level's (or `error`'s), made more severe by each signal present. A degraded result (the
 * offline data decided for a provider that was down) takes the more severe of both: an outage can cost the remote
 * facts, but never turns a mismatch into an allow, nor a fail-closed `error: 'block'` into an open door.
 */
function fromMap(map: Required<PolicyMap>, result: MatchResult): Action {
  let action = result.error
    ? result.degraded
      ? mostSevere(map[result.matchLevel], map.error)
      : map.error
    : map[result.matchLevel];
  for (const signal of result.signals) action = mostSevere(action, map[signal]);
  return action;
}

const DEFAULT_MAP = mergePolicy(undefined, undefined);

/**
 * Compiles a policy once. A policy function that throws or returns something other than an action falls back
 * to the default map for that result, and is logged: a bad policy must not fail a request.
 */
export function compilePolicy(
  policy: Policy | undefined,
  base: Policy | undefined,
  logger: Logger,
): CompiledPolicy {
  let decide: Decide;
  if (typeof policy === 'function') {
    decide = (result) => {
      try {
        const action = policy(result);
        if (isAction(action)) return action;
        logger.error('ipmatch: policy function returned something other than "allow" | "flag" | "block"', {
          code: 'IPMATCH_POLICY_RESULT',
          returned: typeof action === 'string' ? action : typeof action,
        });
      } catch (err) {
        logger.error('ipmatch: policy function threw; the default policy decided instead', {
          code: 'IPMATCH_POLICY_THREW',
          error: err instanceof Error ? err.message : String(err),
        });
      }
      return fromMap(DEFAULT_MAP, result);
    };
  } else {
    const map = mergePolicy(typeof base === 'function' ? undefined : base, policy);
    decide = (result) => fromMap(map, result);
  }
  return {
    decide,
    blockedBy(result) {
      if (decide({ ...result, signals: [] }) === 'block') return undefined;
      return result.signals.find((signal) => decide({ ...result, signals: [signal] }) === 'block');
    },
  };
}

/** What actually happens: observe mode turns a block into a flag. */
export function applyMode(policyAction: Action, mode: Mode): Action {
  return mode === 'observe' && policyAction === 'block' ? 'flag' : policyAction;
}
