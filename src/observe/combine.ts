import { IpMatchConfigError } from '../core/errors.js';
import type { OnDecision } from '../core/types.js';

const ignore = () => {};

/**
 * One `onDecision` that runs every handler in turn, so that a log and metrics see the same decisions. A handler
 * that throws does not stop the ones after it: the first error is rethrown once all have run, and the core
 * logs it. Promises are awaited together. `close()` closes every handler that has a `close()`.
 *
 * @example
 * createIpMatch({ onDecision: combineDecisionHandlers(decisionLog(), prometheusMetrics()) });
 */
export function combineDecisionHandlers(...handlers: OnDecision[]): OnDecision {
  const bad = handlers.findIndex((h) => typeof h !== 'function');
  if (bad !== -1) {
    throw new IpMatchConfigError('combineDecisionHandlers', [
      `handlers[${bad}]: expected a function (decision, context) => void, such as decisionLog()`,
    ]);
  }
  const list = [...handlers];
  const combined: OnDecision = (decision, context) => {
    let failed = false;
    let failure: unknown;
    const pending: Promise<unknown>[] = [];
    for (const handler of list) {
      try {
        const returned: unknown = handler(decision, context);
        if (returned instanceof Promise) pending.push(returned);
      } catch (err) {
        if (!failed) failure = err;
        failed = true;
      }
    }
    if (failed) {
      // The synchronous failure is the one reported; the others' rejections must not go unhandled.
      for (const p of pending) p.catch(ignore);
      throw failure;
    }
    if (pending.length > 0) return Promise.all(pending).then(ignore);
  };
  combined.close = async () => {
    await Promise.all(list.map((h) => h.close?.()));
  };
  return combined;
}
