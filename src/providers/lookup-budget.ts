/** Lookup budgets: paid lookups per second, global and per client IP, past which the offline data decides. */
import ipaddr from 'ipaddr.js';
import { LRUCache } from 'lru-cache';

/** How many paid lookups a provider may make, so that an attacker cannot spend the account's credit. */
export interface LookupBudgetOptions {
  /**
   * Most paid lookups per minute across every client, the ceiling on what a distributed attack can spend.
   * Past it, checks are decided on the offline data. `false` sets no ceiling. Default 600 (10 a second).
   */
  maxLookupsPerMinute?: number | false | undefined;
  /**
   * Most paid lookups per minute for one client IP (an IPv6 client counts per /64, the block one subscriber
   * usually holds). Only new numbers count: a cache hit costs nothing. `false` sets no per-IP limit. Default 10.
   */
  maxLookupsPerMinutePerIp?: number | false | undefined;
}

/** Which budget refused a lookup. */
export type BudgetLimit = 'global' | 'ip';

export interface LookupBudgetSettings {
  perMinute: number | false;
  perMinutePerIp: number | false;
  /** Told the first time in each minute that a budget refuses a lookup (once per limit). */
  onExceeded?: (limit: BudgetLimit, max: number) => void;
  /** Clock in ms; injectable so tests need not wait. */
  now?: () => number;
  /** Client IPs whose counts are kept; the least recently seen are forgotten first. Default 10 000. */
  maxClients?: number;
}

export const WINDOW_MS = 60_000;
const DEFAULT_MAX_CLIENTS = 10_000;

/** Two adjacent fixed windows: enough for a sliding-window estimate, in three numbers and no timer. */
interface Counter {
  /** Index of the current fixed window (`now / WINDOW_MS`, floored). */
  window: number;
  current: number;
  previous: number;
}

/**
 * Sliding-window lookup counters, global and per client IP. A sliding window (the previous minute's count,
 * weighted by how much of it still overlaps the last 60 s, plus this minute's) stops the double burst a fixed
 * window allows at its edge. Nothing here runs on a timer: windows roll over when they are read, so there is
 * nothing to clear on close. Per-IP counters live in a bounded LRU, so a flood of addresses cannot grow memory;
 * an evicted address starts again from zero, and the global budget still caps the total.
 */
export class LookupBudget {
  readonly #perMinute: number | false;
  readonly #perIp: number | false;
  readonly #now: () => number;
  readonly #onExceeded: LookupBudgetSettings['onExceeded'];
  readonly #global: Counter = { window: 0, current: 0, previous: 0 };
  readonly #clients: LRUCache<string, Counter>;
  readonly #warned: Record<BudgetLimit, number> = { global: -1, ip: -1 };

  constructor(settings: LookupBudgetSettings) {
    this.#perMinute = settings.perMinute;
    this.#perIp = settings.perMinutePerIp;
    this.#now = settings.now ?? (() => performance.now());
    this.#onExceeded = settings.onExceeded;
    this.#clients = new LRUCache({ max: settings.maxClients ?? DEFAULT_MAX_CLIENTS });
  }

  /**
   * Counts one lookup for `clientIp` if every budget has room, and returns undefined; otherwise counts
   * nothing and returns the budget that refused. A refused client does not eat into the global budget.
   */
  take(clientIp: string | null): BudgetLimit | undefined {
    const now = this.#now();
    const window = Math.floor(now / WINDOW_MS);
    let client: Counter | undefined;
    if (this.#perIp !== false && clientIp !== null) {
      const key = clientKey(clientIp);
      client = this.#clients.get(key);
      if (!client) {
        client = { window, current: 0, previous: 0 };
        this.#clients.set(key, client);
      }
      if (estimate(client, now) >= this.#perIp) return this.#refuse('ip', this.#perIp, window);
    }
    if (this.#perMinute !== false && estimate(this.#global, now) >= this.#perMinute) {
      return this.#refuse('global', this.#perMinute, window);
    }
    this.#global.current++;
    if (client) client.current++;
    return undefined;
  }

  /** Gives back a lookup that `take` counted but that never reached the upstream (e.g. an open circuit). */
  refund(clientIp: string | null): void {
    const now = this.#now();
    if (estimate(this.#global, now) > 0 && this.#global.current > 0) this.#global.current--;
    if (this.#perIp === false || clientIp === null) return;
    const client = this.#clients.peek(clientKey(clientIp));
    if (client && estimate(client, now) > 0 && client.current > 0) client.current--;
  }

  /** How many client IPs are being counted right now (bounded by `maxClients`). */
  get trackedClients(): number {
    return this.#clients.size;
  }

  #refuse(limit: BudgetLimit, max: number, window: number): BudgetLimit {
    if (this.#warned[limit] !== window) {
      this.#warned[limit] = window;
      this.#onExceeded?.(limit, max);
    }
    return limit;
  }
}

/** Rolls `c` forward to the window of `now`, then estimates how many lookups the last 60 s held. */
function estimate(c: Counter, now: number): number {
  const window = Math.floor(now / WINDOW_MS);
  if (window !== c.window) {
    c.previous = window === c.window + 1 ? c.current : 0;
    c.current = 0;
    c.window = window;
  }
  const overlap = 1 - (now - window * WINDOW_MS) / WINDOW_MS;
  return c.previous * overlap + c.current;
}

/** An IPv4 address as is; an IPv6 one by its /64, since one subscriber is usually handed a whole /64. */
function clientKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  try {
    const parts = ipaddr.IPv6.parse(ip).parts;
    return `${parts
      .slice(0, 4)
      .map((p) => p.toString(16))
      .join(':')}::/64`;
  } catch {
    return ip;
  }
}
