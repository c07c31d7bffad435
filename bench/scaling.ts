/**
 * How cost grows with the numbers held in the core's lookup cache: for 10³, 10⁵ and 10⁶ distinct numbers,
 * the heap each cached entry takes, and `check()` throughput of new numbers (miss, lookup, insert, evict) and
 * of cached ones (hit). The provider is a stub remote one that answers at once from the offline data, through
 * the default in-memory store with `max` raised to the size.
 *
 * Filling 10⁶ entries through check() takes 30-60 s here, so the store is filled directly with the entries
 * check() would write: key and value are first learned from a real check through a recording store, and the
 * fill is used only if it reproduces both exactly (otherwise it falls back to filling through check()).
 * Needs --expose-gc (bench/run.ts passes it, and --no-flush-bytecode, without which the heap shrinks between
 * readings by about as much as 10³ entries take):
 *
 *   node --expose-gc --no-flush-bytecode --import tsx bench/scaling.ts [--quick]
 */
import './plain-stacks.js';
import { LookupCache } from '../src/core/lookup/cache.js';
import { MemoryStore } from '../src/core/memory-store.js';
import { createPhoneParser, loadFullParser, parsePhoneFast } from '../src/core/phone.js';
import type { IpMatchProvider } from '../src/core/provider.js';
import type { Store } from '../src/core/store.js';
import type { IpMatch } from '../src/core/types.js';
import { createIpMatch } from '../src/create-ip-match.js';
import { localProvider } from '../src/providers/local.js';
import { reply } from './children.js';
import { median, round } from './stats.js';
import { buildStreams } from './streams.js';

export interface ScalingRow {
  /** Distinct numbers held in the cache. */
  entries: number;
  /**
   * Heap per cached entry: heapUsed after filling, less before the core was built, over the entries. A small
   * size is measured over as many caches of it as hold 10⁵ entries together.
   */
  bytesPerEntry: number;
  /** heapUsed and RSS with the cache (or caches) full, in MB. */
  heapMB: number;
  rssMB: number;
  /** check() of new numbers with the cache full (every one a miss, a lookup and an eviction). */
  coldChecksPerS: number;
  /** check() of numbers in the cache. */
  hitChecksPerS: number;
  fillSeconds: number;
  /** 'direct': entries written to the store as check() writes them; 'check': through check() itself. */
  fill: 'direct' | 'check';
}

const gc = (globalThis as { gc?: () => void }).gc;
const IP = '81.2.69.160';
const MB = 1024 * 1024;
const TTL_MS = 3_600_000;
const silent = { warn() {}, error() {} };
const MIN_MEASURED_ENTRIES = 100_000;

/** Remote in the core's eyes (so it caches), instant in fact; its facts are the size of a Vonage entry's. */
function stubRemote(): IpMatchProvider {
  const local = localProvider();
  return {
    name: 'stub',
    remote: true,
    keyIncludesIp: false,
    parsePhone: createPhoneParser(),
    ipCountry: (address) => local.ipCountry(address),
    lookup: ({ phone }) => ({
      country: phone.country,
      roamingCountry: null,
      facts: { valid: phone.valid, networkType: 'mobile' },
    }),
  };
}

/** The key and value the core writes for `phone`, as the bench would write them without a check. */
function entryFor(phone: string): { key: string; value: string } {
  const parsed = parsePhoneFast(phone);
  const number = parsed?.number ?? phone;
  const value = JSON.stringify({
    country: parsed?.country ?? null,
    roamingCountry: null,
    networkType: 'mobile',
    valid: parsed?.valid ?? false,
  });
  // On Node the key is synchronous (node:crypto); a promise only where Web Crypto is all there is.
  return { key: LookupCache.key('stub', number, null) as string, value };
}

/** Whether `entryFor` writes exactly what a real check writes (the core's key and value formats may change). */
async function directFillMatches(phone: string): Promise<boolean> {
  const inner = new MemoryStore({ max: 10, ttlMs: TTL_MS });
  let written: { key: string; value: string } | undefined;
  const store: Store = {
    get: (key) => inner.get(key),
    set: (key, value, ttlMs) => {
      written = { key, value };
      inner.set(key, value, ttlMs);
    },
  };
  const ipm = createIpMatch({ provider: stubRemote(), cache: { store, ttlMs: TTL_MS }, logger: silent });
  await ipm.check({ phone, ip: IP });
  await new Promise((resolve) => setTimeout(resolve, 20));
  await ipm.close();
  const mine = entryFor(phone);
  return written?.key === mine.key && written.value === mine.value;
}

function heap(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

async function rate(ipm: IpMatch, phones: readonly string[], count: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < count; i++) await ipm.check({ phone: phones[i % phones.length]!, ip: IP });
  return count / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  if (!gc) throw new Error('run with --expose-gc');
  const quick = process.argv.includes('--quick');
  const sizes = [1_000, 100_000, 1_000_000];
  const MEASURED = 20_000;
  const RUNS = quick ? 1 : 3;
  const streams = buildStreams();
  let cursor = 0;
  const phones = (n: number) => Array.from({ length: n }, () => streams.cold(cursor++).phone);
  // The provider's parser is called directly below, not through check(), which would wait for the full parser
  // (loaded on the first number the fast path cannot decide) by itself.
  await loadFullParser();
  const direct = await directFillMatches(phones(1)[0]!);
  const rows: ScalingRow[] = [];
  for (const entries of sizes) {
    const provider = stubRemote();
    // Loads the GeoIP data and fills the phone parser's own LRU, so that neither grows while the cache fills.
    for (const phone of phones(10_000)) provider.parsePhone(phone, undefined);
    provider.ipCountry(IP);
    // A cache of 10³ entries takes less heap than the heap's own noise: such a size is measured over enough
    // caches of it (each with its own core) to hold 10⁵ entries in all.
    const replicas = Math.max(1, Math.ceil(MIN_MEASURED_ENTRIES / entries));
    const fills = Array.from({ length: replicas }, () => phones(entries));
    const fill = fills[0]!;
    const before = heap();
    const cores: IpMatch[] = [];
    const started = performance.now();
    for (const list of fills) {
      // The default store, built here only so that the direct fill can reach it.
      const store = new MemoryStore({ max: entries, ttlMs: TTL_MS });
      const core = createIpMatch({ provider, cache: { max: entries, ttlMs: TTL_MS, store }, logger: silent });
      cores.push(core);
      if (direct) {
        for (const phone of list) {
          const { key, value } = entryFor(phone);
          store.set(key, value, TTL_MS);
        }
      } else {
        for (let i = 0; i < list.length; i += 1000) {
          await Promise.all(list.slice(i, i + 1000).map((phone) => core.check({ phone, ip: IP })));
        }
        // The store is written after each lookup settles: let those writes land.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    const fillSeconds = (performance.now() - started) / 1000;
    const after = heap();
    const rssMB = process.memoryUsage().rss / MB;
    let ipm: IpMatch | undefined = cores[0]!;
    const probe = await ipm.check({ phone: fill[fill.length - 1]!, ip: IP });
    if (!probe.cached) throw new Error('the cache does not hold the numbers it was filled with');
    const cold: number[] = [];
    const hit: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const fresh = phones(MEASURED);
      cold.push(await rate(ipm, fresh, MEASURED));
      // Every one of these was a miss just now, so the most recent `entries` of them are in the cache.
      hit.push(await rate(ipm, fresh.slice(-Math.min(entries, MEASURED)), MEASURED));
    }
    rows.push({
      entries,
      bytesPerEntry: Math.round((after - before) / (entries * replicas)),
      heapMB: round(after / MB, 1),
      rssMB: round(rssMB, 1),
      coldChecksPerS: Math.round(median(cold)),
      hitChecksPerS: Math.round(median(hit)),
      fillSeconds: round(fillSeconds, 1),
      fill: direct ? 'direct' : 'check',
    });
    for (const core of cores) await core.close();
    cores.length = 0;
    ipm = undefined;
    heap();
  }
  reply(rows);
}

await main();
