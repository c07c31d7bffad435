/** The in-memory Store: an LRU with a TTL, the default cache of remote lookups. */
import { LRUCache } from 'lru-cache';
import type { Store } from './store.js';

/** The default store: a bounded in-process LRU whose entries expire after their own TTL. */
export class MemoryStore implements Store {
  readonly #lru: LRUCache<string, string>;

  constructor(options: { max: number; ttlMs: number }) {
    this.#lru = new LRUCache<string, string>({ max: options.max, ttl: options.ttlMs, ttlAutopurge: false });
  }

  get(key: string): string | undefined {
    return this.#lru.get(key);
  }

  set(key: string, value: string, ttlMs: number): void {
    this.#lru.set(key, value, { ttl: ttlMs });
  }

  delete(key: string): void {
    this.#lru.delete(key);
  }

  /** Number of live entries (for tests and the bench). */
  get size(): number {
    return this.#lru.size;
  }

  clear(): void {
    this.#lru.clear();
  }
}
