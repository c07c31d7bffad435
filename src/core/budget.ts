import { afterIo } from './builtins.js';
import { ProviderError } from './errors.js';
import type { IpMatchProvider, LookupRequest, PhoneLookup } from './provider.js';
import type { Reason } from './types.js';

class BudgetExceeded extends Error {}

/**
 * Runs a provider lookup (or joins one in flight) within what is left of the check's budget. The provider
 * gets an AbortSignal that fires at the deadline; the race also covers a provider that ignores its signal.
 */
export function runWithBudget(
  work: IpMatchProvider | Promise<PhoneLookup>,
  request: Omit<LookupRequest, 'signal' | 'deadline'>,
  start: number,
  timeoutMs: number,
): Promise<PhoneLookup> {
  const deadline = start + timeoutMs;
  const remaining = deadline - performance.now();
  if (remaining <= 0) return Promise.reject(new BudgetExceeded());
  const controller = new AbortController();
  return new Promise<PhoneLookup>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Decide first, tear down after: aborting makes undici destroy the socket synchronously, and when many
      // budgets run out together each decision would otherwise wait behind the teardowns before it.
      reject(new BudgetExceeded());
      afterIo(() => controller.abort());
    }, remaining);
    const promise =
      work instanceof Promise
        ? work
        : Promise.resolve().then(() => work.lookup({ ...request, signal: controller.signal, deadline }));
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/** Turns whatever a lookup threw into a decision's reason and error, without leaking anything. */
export function lookupError(
  err: unknown,
  timeoutMs: number,
): { reason: Reason; error: { code: string; message: string } } {
  if (
    err instanceof BudgetExceeded ||
    (err instanceof ProviderError && err.code === 'timeout') ||
    (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError'))
  ) {
    return {
      reason: 'lookup_timeout',
      error: { code: 'timeout', message: `lookup exceeded the ${timeoutMs} ms budget` },
    };
  }
  if (err instanceof ProviderError)
    return { reason: 'lookup_failed', error: { code: err.code, message: err.message } };
  const message = err instanceof Error ? err.message : String(err);
  return { reason: 'lookup_failed', error: { code: 'provider_error', message: message.slice(0, 200) } };
}
