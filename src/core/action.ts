/** What happens to a request (allow, flag, block), and which of two actions is the more severe. */

/** What happens to the request. */
export type Action = 'allow' | 'flag' | 'block';

const SEVERITY: Record<Action, number> = { allow: 0, flag: 1, block: 2 };

/** The more severe of two actions: block > flag > allow. */
export function mostSevere(a: Action, b: Action): Action {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}
