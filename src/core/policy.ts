/** The policy, compiled once per route: one pass over a match result gives the action and the cause of a block. */

import { mostSevere } from './action.js';
import { ACTIONS, DEFAULT_POLICY } from './options.js';
import type { Signal } from './signals.js';
import type { Action, Logger, MatchResult, Mode, Policy, PolicyMap } from './types.js';

/**
 * What the policy decided, and why. `cause` is the signal that made the action a block when the match level's
 * own action is not one (the 403 then names that signal); null when the level decided, or nothing blocks.
 */
export interface Verdict {
  readonly action: Action;
  readonly cause: Signal | null;
}

/** A policy compiled once. `decide` never throws, and calls a user's policy function once per result. */
export interface CompiledPolicy {
  decide(result: MatchResult): Verdict;
}

/** The verdicts without a signal cause, made once: the common outcome allocates nothing. */
const PLAIN: Record<Action, Verdict> = {
  allow: Object.freeze({ action: 'allow', cause: null }),
  flag: Object.freeze({ action: 'flag', cause: null }),
  block: Object.freeze({ action: 'block', cause: null }),
};

export const isAction = (v: unknown): v is Action => (ACTIONS as readonly unknown[]).includes(v);

/** The map in force: `overrides` over `base` over `raise` (a `sendsOtp` route's, see sends-otp.ts) over the defaults. */
export function mergePolicy(
  base: Policy | undefined,
  overrides: PolicyMap | undefined,
  raise?: Readonly<PolicyMap>,
): Required<PolicyMap> {
  return { ...DEFAULT_POLICY, ...raise, ...(typeof base === 'object' ? base : {}), ...overrides };
}

/**
 * The match level's own action (or `error`'s). A degraded result (the offline data decided for a provider that
 * was down) takes the more severe of both: an outage can cost the remote facts, but never turns a mismatch into
 * an allow, nor a fail-closed `error: 'block'` into an open door.
 */
function levelAction(map: Required<PolicyMap>, result: MatchResult): Action {
  if (!result.error) return map[result.matchLevel];
  return result.degraded ? mostSevere(map[result.matchLevel], map.error) : map.error;
}

/** The first signal present whose own action is `block`, when the level's is not. */
function blockingSignal(map: Required<PolicyMap>, result: MatchResult): Signal | null {
  if (levelAction(map, result) === 'block') return null;
  for (const signal of result.signals) if (map[signal] === 'block') return signal;
  return null;
}

/** A map's verdict, in one pass: the level's action, made more severe by each signal present. */
function fromMap(map: Required<PolicyMap>, result: MatchResult): Verdict {
  const level = levelAction(map, result);
  let action = level;
  let cause: Signal | null = null;
  for (const signal of result.signals) {
    const own = map[signal];
    if (own === 'block' && level !== 'block' && cause === null) cause = signal;
    action = mostSevere(action, own);
  }
  return cause === null ? PLAIN[action] : { action, cause };
}

const DEFAULT_MAP = mergePolicy(undefined, undefined);

/**
 * Compiles a policy once: a map merged over `base` (the core's) over `raise` over the defaults, or a function. A function is
 * called once per result; the cause of its block is read from the map it stands beside (the core's, else the
 * defaults): the first present signal that map blocks, else the first signal present when the level alone would
 * not have blocked. A function that throws or returns something other than an action falls back to the default
 * map for that result, and is logged: a bad policy must not fail a request.
 */
export function compilePolicy(
  policy: Policy | undefined,
  base: Policy | undefined,
  logger: Logger,
  raise?: Readonly<PolicyMap>,
): CompiledPolicy {
  if (typeof policy !== 'function') {
    const map = mergePolicy(typeof base === 'function' ? undefined : base, policy, raise);
    return { decide: (result) => fromMap(map, result) };
  }
  const beside = mergePolicy(typeof base === 'function' ? undefined : base, undefined, raise);
  return {
    decide(result) {
      let action: unknown;
      try {
        action = policy(result);
      } catch (err) {
        logger.error('ipmatch: policy function threw; the default policy decided instead', {
          code: 'IPMATCH_POLICY_THREW',
          error: err instanceof Error ? err.message : String(err),
        });
        return fromMap(DEFAULT_MAP, result);
      }
      if (!isAction(action)) {
        logger.error('ipmatch: policy function returned something other than "allow" | "flag" | "block"', {
          code: 'IPMATCH_POLICY_RESULT',
          returned: typeof action === 'string' ? action : typeof action,
        });
        return fromMap(DEFAULT_MAP, result);
      }
      if (action !== 'block' || result.signals.length === 0) return PLAIN[action];
      const cause =
        blockingSignal(beside, result) ??
        (levelAction(beside, result) === 'block' ? null : (result.signals[0] ?? null));
      return cause === null ? PLAIN.block : { action, cause };
    },
  };
}

/** What actually happens: observe mode turns a block into a flag. */
export function applyMode(policyAction: Action, mode: Mode): Action {
  return mode === 'observe' && policyAction === 'block' ? 'flag' : policyAction;
}
