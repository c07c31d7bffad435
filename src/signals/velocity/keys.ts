/**
 * The velocity counters' keys and members as keyed hashes, never a number, block or IP in clear: a seeded 49-bit
 * hash for the in-memory counters, a domain-separated SHA-256 for a shared Store (which HMACs them again).
 */
import { builtin } from '../../core/builtins.js';
import { sha256Hex } from '../../core/hash.js';

/**
 * What a hash stands for. Each kind is its own domain, so that a number's hash as a member of one counter is not
 * its key in another (the phone counter's key and the IP counter's members are both made from the number).
 */
export const KIND = Object.freeze({
  ip: 1,
  subnet: 2,
  phone: 3,
  block: 4,
  sent: 5,
  verified: 6,
  number: 7,
  country: 8,
} as const);
export type Kind = keyof typeof KIND;

/**
 * Fills `words` from the kernel's CSPRNG (/dev/urandom) through node:fs, which a process has loaded already; false
 * where there is none (Windows, Workers) or it cannot be read. On Node only: Bun and Deno answer Web Crypto
 * natively, and Deno may ask for a read permission.
 */
function fromUrandom(words: Uint32Array): boolean {
  const g = globalThis as { process?: { versions?: Record<string, string | undefined> }; Deno?: unknown };
  const versions = g.process?.versions;
  if (!versions?.node || versions.bun || g.Deno) return false;
  const fs = builtin('node:fs');
  if (!fs) return false;
  try {
    const fd = fs.openSync('/dev/urandom', 'r');
    try {
      return fs.readSync(fd, words, 0, words.byteLength, null) === words.byteLength;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/**
 * Two random 32-bit words, the in-memory hashes' secret: new in each process, never leaves it. On Node, from
 * /dev/urandom: `globalThis.crypto` (or node:crypto) costs the first decision ~3 ms to load OpenSSL's binding
 * and Web Crypto, which nothing else on that path needs; the bytes come from the same kernel source.
 */
function randomSeed(): [number, number] {
  const words = new Uint32Array(2);
  if (!fromUrandom(words)) {
    const webCrypto = globalThis.crypto ?? builtin('node:crypto')?.webcrypto;
    if (webCrypto) webCrypto.getRandomValues(words);
    else for (let i = 0; i < 2; i++) words[i] = Math.floor(Math.random() * 4294967296);
  }
  return [words[0]!, words[1]!];
}

/**
 * Keyed 49-bit hashes (cyrb53's mixing, seeded with a per-process secret; the kind is mixed in at the end), as
 * non-negative integers: a slot table keeps a key's high 17 bits and its count in one word. Not a MAC: they keep
 * the in-memory counters free of clear numbers and IPs, and the random seed keeps an attacker from choosing inputs
 * that collide. One pass over a text gives the hash of the whole and of a prefix (a number and its block, an IP and
 * its /24), in any kind: a check hashes its number once and its IP once, where an HMAC per counter would cost more
 * than the whole check.
 */
export function memoryHasher(seed?: readonly [number, number]) {
  // The secret is drawn on the first pass, not when the core is built: Workers refuse random values at a
  // module's top level, where a Worker builds its core.
  let a = seed ? seed[0] : 0;
  let b = seed ? seed[1] : 0;
  let seeded = seed !== undefined;
  // The states after the last pass: at its `end` (the prefix) and at the text's end.
  let p1 = 0;
  let p2 = 0;
  let f1 = 0;
  let f2 = 0;
  const finish = (x: number, y: number, kind: Kind): number => {
    const k = KIND[kind];
    let h1 = x ^ Math.imul(k, 0x9e3779b1);
    let h2 = y ^ Math.imul(k, 0x85ebca77);
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
    h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
    h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return 4294967296 * (131071 & h2) + (h1 >>> 0);
  };
  const hasher = {
    /** Reads `text` once, keeping the state at `end` (the prefix) and at its end; then `prefix` and `whole`. */
    pass(text: string, end: number): void {
      if (!seeded) {
        [a, b] = randomSeed();
        seeded = true;
      }
      let h1 = 0xdeadbeef ^ a;
      let h2 = 0x41c6ce57 ^ b;
      for (let i = 0; i < text.length; i++) {
        if (i === end) {
          p1 = h1;
          p2 = h2;
        }
        const c = text.charCodeAt(i);
        h1 = Math.imul(h1 ^ c, 2654435761);
        h2 = Math.imul(h2 ^ c, 1597334677);
      }
      if (end >= text.length) {
        p1 = h1;
        p2 = h2;
      }
      f1 = h1;
      f2 = h2;
    },
    /** The last pass's prefix, hashed as `kind`. */
    prefix: (kind: Kind): number => finish(p1, p2, kind),
    /** The last pass's whole text, hashed as `kind`. */
    whole: (kind: Kind): number => finish(f1, f2, kind),
    /** `text` up to `end`, hashed as `kind`, in one call. */
    hash(kind: Kind, text: string, end: number = text.length): number {
      hasher.pass(text, end);
      return finish(p1, p2, kind);
    },
  };
  return hasher;
}
export type MemoryHasher = ReturnType<typeof memoryHasher>;

/**
 * The hash of `text` (up to `end`) for a shared Store: SHA-256 over a version, the kind and the text, as 32 hex
 * characters (128 bits). It is the same in every process, so that a fleet counts together; the Store HMACs it
 * again with its own secret (`RedisStore`'s `keySecret`). Without that secret, someone who reads the store can
 * test a guess (is +447400123456 among the members?) but learns nothing they did not guess.
 */
export function storeHash(kind: Kind, text: string, end: number = text.length): string | Promise<string> {
  const hex = sha256Hex(`ipmatch/velocity/v1\n${kind}\n${end === text.length ? text : text.slice(0, end)}`);
  return typeof hex === 'string' ? hex.slice(0, 32) : hex.then((h) => h.slice(0, 32));
}

/** Where an E.164 number's block ends: without its last `digits` digits; -1 when too little would be left. */
export function blockEnd(number: string, digits: number): number {
  const end = number.length - digits;
  return end >= 4 ? end : -1;
}

/** The IP's own counter text: the address for IPv4 (/32), its first four groups for IPv6 (/64). */
export function ipUnit(address: string): string {
  return address.includes(':') ? v6Groups(address, 4) : address;
}

/** The IP's subnet counter text: IPv4 /24 ('203.0.113'), IPv6 /48 (its first three groups). */
export function subnetUnit(address: string): string {
  return address.includes(':') ? v6Groups(address, 3) : address.slice(0, address.lastIndexOf('.'));
}

/**
 * The first `n` 16-bit groups of a canonical (RFC 5952) IPv6 address, joined by ':' ('2001:db8:0:0' for
 * 2001:db8::1 and n = 4). A canonical address has lower-case groups without leading zeros and one '::' at most.
 * Runs per IPv6 check: it walks the text once and builds only the result.
 */
export function v6Groups(address: string, n: number): string {
  const gap = address.indexOf('::');
  // Groups written before the gap (all of them without one), and where the n-th of them ends.
  const head = gap === -1 ? address : address.slice(0, gap);
  let groups = head.length === 0 ? 0 : 1;
  let end = -1;
  for (let i = 0; i < head.length && end === -1; i++) {
    if (head.charCodeAt(i) === 58 && ++groups > n) end = i;
  }
  if (end !== -1) return head.slice(0, end);
  if (gap === -1 || groups === n) return head;
  // The gap's zeros, then groups after it while fewer than n.
  const tail = gap + 2 === address.length ? [] : address.slice(gap + 2).split(':');
  const zeros = 8 - groups - tail.length;
  let out = head;
  for (let g = groups; g < n; g++) {
    const part = g - groups < zeros ? '0' : tail[g - groups - zeros]!;
    out = out.length === 0 ? part : `${out}:${part}`;
  }
  return out;
}
