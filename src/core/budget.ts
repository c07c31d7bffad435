/** The check's time budget around a lookup: the deadline, the AbortSignal, and errors turned into reasons. */
import { ProviderError } from './errors.js';
import type { IpMatchProvider, LookupRequest, PhoneLookup } from './provider.js';
import type { Reason } from './types.js';

class BudgetExceeded extends Error {}
/**
 * One instance for every cut: its stack says nothing, and a hundred budgets that run out together (a hung
 * upstream) would each capture one before their decision.
 */
const EXCEEDED = new BudgetExceeded('the lookup budget ran out');

/** Told when a lookup's budget runs out; an object with `handleEvent`, so that an AbortSignal can call it too. */
export interface CutListener {
  handleEvent(): void;
}

const kBudget = Symbol('ipmatch.budget');

/**
 * The end of one lookup's budget. Its AbortSignal is made only when a provider reads `request.signal`: on Node
 * 20 an AbortSignal and one listener cost 6-10 µs (a new `AbortController().signal` with an add/remove of a
 * listener, in a loop), as much as the rest of what ipmatch does around a remote check. ipmatch's own HTTP
 * client listens here instead (`listenForCut`), and never makes one.
 */
class Budget {
  #controller: AbortController | undefined;
  #listener: CutListener | undefined;
  cut = false;

  /** Marks the budget spent; `end` tears the lookup down later (see `tearDownSoon`). */
  spend(): void {
    this.cut = true;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.cut) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  listen(listener: CutListener | undefined): void {
    this.#listener = listener;
  }

  end(): void {
    this.#controller?.abort();
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.handleEvent();
  }
}

/** What carries a budget: a LookupRequest, from runWithBudget or from anyone else (then by its signal alone). */
export type Budgeted = { readonly signal: AbortSignal; readonly [kBudget]?: Budget };

/** Whether the budget of `request` has run out. */
export function isCut(request: Budgeted): boolean {
  const budget = request[kBudget];
  return budget ? budget.cut : request.signal.aborted;
}

/**
 * Calls `listener.handleEvent()` once when the budget of `request` runs out, until `stopListening`. A request from
 * runWithBudget takes one listener and no AbortSignal; any other request is listened to through its signal.
 */
export function listenForCut(request: Budgeted, listener: CutListener): void {
  const budget = request[kBudget];
  if (budget) budget.listen(listener);
  else request.signal.addEventListener('abort', listener, { once: true });
}

export function stopListening(request: Budgeted, listener: CutListener): void {
  const budget = request[kBudget];
  if (budget) budget.listen(undefined);
  else request.signal.removeEventListener('abort', listener);
}

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
  if (remaining <= 0) return Promise.reject(EXCEEDED);
  const budget = work instanceof Promise ? undefined : new Budget();
  return new Promise<PhoneLookup>((resolve, reject) => {
    const timer = setTimeout(() => {
      budget?.spend();
      reject(EXCEEDED);
      if (budget) tearDownSoon(budget);
    }, remaining);
    const promise = budget
      ? Promise.resolve().then(() =>
          (work as IpMatchProvider).lookup!({
            phone: request.phone,
            ip: request.ip,
            clientIp: request.clientIp,
            deadline,
            // An own, enumerable getter: a provider that spreads the request still passes a working signal on.
            get signal() {
              return budget.signal;
            },
            [kBudget]: budget,
          } as LookupRequest),
        )
      : (work as Promise<PhoneLookup>);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/** Spent budgets whose lookups are still to be torn down, and the timer that will. */
let spent: Budget[] = [];
let teardown: ReturnType<typeof setTimeout> | undefined;
let firstSpentAt = 0;
/** Teardown waits for this long without a budget running out... */
const QUIET_MS = 5;
/** ...but never longer than this after the first. */
const MAX_WAIT_MS = 50;

/**
 * Decide first, tear down after. Aborting a lookup makes undici destroy its socket at once (100-200 µs each);
 * when many budgets run out together (a hung upstream), decisions whose budget ran out a moment later would
 * wait behind the teardowns of those before. So the aborts wait until no budget has run out for QUIET_MS (at
 * most MAX_WAIT_MS), then run together. Same run, 100 concurrent checks of a hung fake, timeoutMs 300
 * (a .tmp harness, 4 hung rounds each, interleaved): the median decision 305-319 -> 300-304 ms, the worst
 * 307-363 -> 301-306 ms.
 */
function tearDownSoon(budget: Budget): void {
  spent.push(budget);
  const now = performance.now();
  if (teardown === undefined) firstSpentAt = now;
  else if (now - firstSpentAt + QUIET_MS > MAX_WAIT_MS) return;
  else clearTimeout(teardown);
  teardown = setTimeout(tearDown, QUIET_MS);
}

function tearDown(): void {
  const budgets = spent;
  spent = [];
  teardown = undefined;
  for (const budget of budgets) budget.end();
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
