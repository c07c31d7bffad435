/** The `onDecision` fan-out: every listener sees every decision, and none of them can fail a request. */
import { IpMatchConfigError } from './errors.js';
import type { DecisionContext, IpMatchDecision, Logger, OnDecision } from './types.js';

const ignore = () => {};

/** Where a request's decision was made, from the adapter: `onDecision`'s context without the duration. */
export interface RequestContext {
  route: string | null;
  method: string | null;
}

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

/** Hands decisions to one `onDecision` (or an array of them, combined), catching and logging what it throws. */
export interface Notifier {
  notify(decision: IpMatchDecision, request: RequestContext | undefined, started: number): void;
  close(): Promise<void>;
}

export function createNotifier(onDecision: OnDecision | OnDecision[], logger: Logger): Notifier {
  const listener = Array.isArray(onDecision) ? combineDecisionHandlers(...onDecision) : onDecision;
  const failed = (err: unknown) =>
    logger.error('ipmatch: onDecision threw; the request went on', {
      code: 'IPMATCH_ON_DECISION_THREW',
      error: err instanceof Error ? err.message : String(err),
    });
  return {
    notify(decision, request, started) {
      const context: DecisionContext = {
        route: request ? request.route : null,
        method: request ? request.method : null,
        durationMs: performance.now() - started,
      };
      try {
        const returned: unknown = listener(decision, context);
        // An async listener's rejection must not become an unhandled rejection that takes the app down.
        if (returned instanceof Promise) returned.catch(failed);
      } catch (err) {
        failed(err);
      }
    },
    async close() {
      try {
        await listener.close?.();
      } catch (err) {
        logger.error('ipmatch: closing onDecision failed', {
          code: 'IPMATCH_ON_DECISION_CLOSE_FAILED',
          error: err instanceof Error ? err.message : String(err),
        });
      }
    },
  };
}
