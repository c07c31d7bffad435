/**
 * Where the core keeps remote lookups between checks. The in-memory LRU is the default; `ipmatch/redis`
 * shares lookups across a fleet. Implement this to plug in another engine.
 *
 * - Keys arrive already hashed (a SHA-256 of the provider scope, the E.164 number and, with `sendIp`, the IP);
 *   a store may hash them again with a secret of its own. They never hold a phone number.
 * - Values are JSON strings holding only match facts (countries, roaming country, network type, validity).
 * - Every method may throw or reject: the core then carries on without the cache and warns once.
 */
export interface Store {
  /** The value stored under `key`, or undefined/null when there is none or it has expired. */
  get(key: string): Promise<string | undefined | null> | string | undefined | null;
  /** Stores `value` under `key` for `ttlMs` milliseconds. */
  set(key: string, value: string, ttlMs: number): Promise<unknown> | unknown;
  /** Removes `key`. Optional. */
  delete?(key: string): Promise<unknown> | unknown;
  /**
   * Optional: takes a short lock named `key` for `ttlMs` (Redis `SET NX PX`), so that concurrent checks of one
   * number on many servers make one upstream call. Resolves true when this caller holds the lock.
   */
  lock?(key: string, ttlMs: number): Promise<boolean>;
  /** Optional: releases a lock taken with `lock`. */
  unlock?(key: string): Promise<unknown>;
  /**
   * Optional: the velocity counters, all of one check in one call. For each op, adds `member` to the set `key`
   * at the store's current time, forgets members older than `windowMs`, keeps at most the `cap` newest, and
   * answers how many distinct members the set holds now (this one included). An op whose `member` is `''` adds
   * nothing and only counts. Keys and members arrive as keyed hashes: never a number, prefix or IP in clear.
   * Without it, velocity counts in memory, per process.
   */
  distinct?(ops: ReadonlyArray<DistinctOp>): Promise<number[]>;
}

/** One counter of `Store.distinct`. */
export interface DistinctOp {
  key: string;
  member: string;
  windowMs: number;
  cap: number;
}
