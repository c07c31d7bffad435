/**
 * Around the spine: a check never throws or rejects into a request, the first number the phone fast path cannot
 * decide waits (once) for the full parser, and `onDecision` hears every decision with its duration.
 */
import type { Notifier, RequestContext } from '../notify.js';
import { PhoneParserLoading } from '../phone.js';
import type { Logger } from '../types.js';
import type { Check, Checked, CompiledRoute } from './check.js';
import { buildDecision } from './decision.js';

export type SafeCheck = (
  input: Parameters<Check>[0],
  route: CompiledRoute,
  request?: RequestContext,
) => Checked | Promise<Checked>;

const INTERNAL_ERROR = { code: 'internal_error', message: 'ipmatch internal error' };

/** Wraps the spine once per core. With a notifier, each decision is timed and reported; without, no clock is read. */
export function safeCheck(
  check: Check,
  providerName: string,
  logger: Logger,
  notifier?: Notifier,
): SafeCheck {
  /** Unreachable by design; kept so that a bug can never throw or reject into a request. */
  const internalError = (err: unknown, route: CompiledRoute): Checked => {
    logger.error('ipmatch: internal error during check', { error: String(err) });
    return buildDecision({
      match: { matchLevel: 'unknown', reason: 'lookup_failed' },
      ip: { address: null, country: null, network: null },
      phone: { number: null, country: null, roamingCountry: null, type: null },
      provider: providerName,
      cached: false,
      signals: [],
      error: INTERNAL_ERROR,
      policy: route.policy,
      mode: route.mode,
    });
  };

  const run = (input: Parameters<Check>[0], route: CompiledRoute): Checked | Promise<Checked> => {
    try {
      const checked = check(input, route);
      return checked instanceof Promise
        ? checked.catch((err: unknown) => internalError(err, route))
        : checked;
    } catch (err) {
      if (err instanceof PhoneParserLoading) {
        return err.loaded.then(
          () => run(input, route),
          (loadError: unknown) => internalError(loadError, route),
        );
      }
      return internalError(err, route);
    }
  };
  if (!notifier) return run;

  return (input, route, request) => {
    const started = performance.now();
    const checked = run(input, route);
    if (!(checked instanceof Promise)) {
      notifier.notify(checked.decision, request, started);
      return checked;
    }
    return checked.then((done) => {
      notifier.notify(done.decision, request, started);
      return done;
    });
  };
}
