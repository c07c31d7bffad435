/** A circuit breaker for a remote provider: open after repeated failures, half-open to probe. */
import { ProviderError } from '../core/errors.js';

/** `closed` lets calls through; `open` refuses them; `half-open` lets one probe through. */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive upstream failures that open the breaker. */
  failures: number;
  /** How long the breaker stays open before one probe may go through, in ms. */
  cooldownMs: number;
  /** Told when the breaker opens or closes again (not on every half-open probe). */
  onChange?: (state: 'open' | 'closed', failures: number) => void;
  /** Clock in ms; injectable so tests need not wait. */
  now?: () => number;
}

/**
 * A small circuit breaker (opossum 10 needs Node 22). Only failures whose `upstream` flag is set count:
 * a bad number or bad credentials say nothing about Vonage's health, so they neither open nor keep it open.
 */
export class CircuitBreaker {
  #state: BreakerState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #probing = false;
  readonly #options: BreakerOptions;
  readonly #now: () => number;

  constructor(options: BreakerOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  state(): BreakerState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#options.cooldownMs)
      return 'half-open';
    return this.#state;
  }

  /**
   * Runs `fn` unless the breaker refuses (then `onRefused` is called and the promise rejects with
   * 'circuit_open'), and counts how it ends. One `then` and no async function: it runs on every remote check.
   */
  run<T>(fn: () => Promise<T>, onRefused?: () => void): Promise<T> {
    const state = this.state();
    if (state === 'open' || (state === 'half-open' && this.#probing)) {
      onRefused?.();
      return Promise.reject(this.#refusal());
    }
    const probe = state === 'half-open';
    if (probe) this.#probing = true;
    let pending: Promise<T>;
    try {
      pending = fn();
    } catch (error) {
      pending = Promise.reject(error);
    }
    return pending.then(
      (value) => {
        if (probe) this.#probing = false;
        this.#succeeded(probe);
        return value;
      },
      (error: unknown) => {
        if (probe) this.#probing = false;
        if (error instanceof ProviderError && !error.upstream) this.#succeeded(probe);
        else this.#failed(probe);
        throw error;
      },
    );
  }

  #succeeded(probe: boolean): void {
    // Only the probe may close an open breaker. A call that went out before it opened and answers late proves
    // little: under a high failure rate, letting such stragglers close it makes it flap with every burst.
    if (!probe && this.#state !== 'closed') return;
    const wasOpen = this.#state !== 'closed';
    this.#state = 'closed';
    this.#failures = 0;
    if (wasOpen) this.#options.onChange?.('closed', 0);
  }

  #failed(probe: boolean): void {
    this.#failures++;
    if (probe || (this.#state === 'closed' && this.#failures >= this.#options.failures)) {
      const wasClosed = this.#state === 'closed';
      this.#state = 'open';
      this.#openedAt = this.#now();
      if (wasClosed) this.#options.onChange?.('open', this.#failures);
    }
  }

  #refusal(): ProviderError {
    const waitMs = Math.max(0, this.#options.cooldownMs - (this.#now() - this.#openedAt));
    return new ProviderError(
      'circuit_open',
      `Vonage lookups are paused after ${this.#failures} consecutive failures; next try in ${Math.ceil(waitMs / 1000)} s`,
      { upstream: false },
    );
  }
}
