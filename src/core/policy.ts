import { ACTIONS, DEFAULT_POLICY } from './options.js';
import type { Action, Logger, MatchResult, Mode, Policy, PolicyMap } from './types.js';

export type Decide = (result: MatchResult) => Action;

const isAction = (v: unknown): v is Action => (ACTIONS as readonly unknown[]).includes(v);

/** The map in force: `overrides` over `base` over the defaults. */
export function mergePolicy(base: Policy | undefined, overrides: PolicyMap | undefined): Required<PolicyMap> {
  return { ...DEFAULT_POLICY, ...(typeof base === 'object' ? base : {}), ...overrides };
}

/**
 * Compiles a policy once into a function. A policy function that throws or returns something other than
 * an action falls back to the default map for that result, and is logged: a bad policy must not fail a request.
 */
export function compilePolicy(policy: Policy | undefined, base: Policy | undefined, logger: Logger): Decide {
  if (typeof policy === 'function') {
    return (result) => {
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
      return result.error ? DEFAULT_POLICY.error : DEFAULT_POLICY[result.matchLevel];
    };
  }
  const map = mergePolicy(typeof base === 'function' ? undefined : base, policy);
  return (result) => (result.error ? map.error : map[result.matchLevel]);
}

/** What actually happens: observe mode turns a block into a flag. */
export function applyMode(policyAction: Action, mode: Mode): Action {
  return mode === 'observe' && policyAction === 'block' ? 'flag' : policyAction;
}
