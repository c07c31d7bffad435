/** Velocity counted in this process: synchronous, so that the offline check stays free of promises. */
import type { SignalContext } from '../../core/signal-source.js';
import type { Signal } from '../../core/signals.js';
import type { VelocitySettings } from '../../core/velocity-options.js';
import { CONVERSION } from './conversion.js';
import type { Counting } from './counting.js';
import { blockEnd, type MemoryHasher, memoryHasher, v6Groups } from './keys.js';
import { MemoryCounters } from './memory-counters.js';
import { Recent } from './recent.js';
import { capFor, NO_SIGNALS, verdict } from './verdict.js';

// A number's recent entry: its hashes (its member, its phone key, its block's, sent and verified keys) and its
// slot hints in the phone, prefix and conversion tables.
const MEMBER = 0;
const PHONE = 1;
const BLOCK = 2;
const SENT = 3;
const VERIFIED = 4;
const NUMBER_HASHES = 5;
const PHONE_SLOT = 0;
const BLOCK_SLOT = 1;
const SENT_SLOT = 2;
const VERIFIED_SLOT = 3;
const NUMBER_SLOTS = 4;
// An IP's recent entry: its /32 (or /64) and subnet keys, and a slot hint for each, in that order.
const UNIT = 0;
const SUBNET = 1;
const ADDRESS_HASHES = 2;
const ADDRESS_SLOTS = 2;

/**
 * Counts with a MemoryCounters and seeded hashes (keys.ts): no number, block or IP is held in clear. `counts`
 * decides whether a check's IP counts (public, outside `allow`). `hash` and `counters` are injectable for tests.
 */
export function memoryCounting(
  s: VelocitySettings,
  counts: (ctx: SignalContext) => boolean,
  now: () => number,
  hash: MemoryHasher = memoryHasher(),
  counters: MemoryCounters = new MemoryCounters(),
): Counting & { counters: MemoryCounters } {
  // Each kind's table, taken once: a check adds to them directly.
  const ipTable = s.ip ? counters.table(capFor(s.ip.max), s.ip.windowMs) : null;
  const subnetTable = s.subnet ? counters.table(capFor(s.subnet.max), s.subnet.windowMs) : null;
  const phoneTable = s.phone ? counters.table(capFor(s.phone.maxCountries), s.phone.windowMs) : null;
  const prefixTable = s.prefix ? counters.table(capFor(s.prefix.max), s.prefix.windowMs) : null;
  const conversion = counters.table(CONVERSION.cap, CONVERSION.windowMs);
  const digits = s.prefix ? s.prefix.digits : 3;
  // An IP's country is one of about 250 codes: each is hashed once.
  const countries = new Map<string, number>();
  const countryHash = (country: string): number => {
    let h = countries.get(country);
    if (h !== undefined) return h;
    h = hash.hash('country', country);
    // A provider's own data could name more; past the real ones, hash each time rather than grow.
    if (countries.size < 512) countries.set(country, h);
    return h;
  };

  // The hashes and slot hints of the numbers and IPs checked last (recent.ts): a number's member, phone key,
  // block, sent and verified keys, and its slots in the phone, prefix, sent and verified tables; an IP's /32 (or
  // /64) and subnet keys and their slots.
  const numbers = new Recent(NUMBER_HASHES, NUMBER_SLOTS);
  const addresses = new Recent(ADDRESS_HASHES, ADDRESS_SLOTS);

  return {
    counters,
    count(ctx: SignalContext, otp: boolean): readonly Signal[] {
      const number = ctx.phone.number;
      if (number === null) return NO_SIGNALS;
      const at = ctx.now();
      // The number's hashes: from its recent entry, or its block and whole in one pass.
      let n = numbers.find(number);
      if (n < 0) {
        n = ~n;
        numbers.take(n, number);
        const end = blockEnd(number, digits);
        hash.pass(number, end);
        const h = numbers.hashes;
        const e = n * NUMBER_HASHES;
        h[e + MEMBER] = hash.whole('number');
        h[e + PHONE] = hash.whole('phone');
        h[e + BLOCK] = end > 0 ? hash.prefix('block') : -1;
        h[e + SENT] = end > 0 ? hash.prefix('sent') : -1;
        h[e + VERIFIED] = end > 0 ? hash.prefix('verified') : -1;
      }
      const nh = numbers.hashes;
      const ns = numbers.slots;
      const nHash = n * NUMBER_HASHES;
      const nSlot = n * NUMBER_SLOTS;
      const member = nh[nHash + MEMBER]!;
      const blockKey = nh[nHash + BLOCK]!;
      const address = counts(ctx) ? ctx.ip.address : null;
      let ip = 0;
      let subnet = 0;
      if (address !== null && (ipTable || subnetTable)) {
        let a = addresses.find(address);
        if (a < 0) {
          a = ~a;
          addresses.take(a, address);
          // IPv4: the address (/32) and its /24; IPv6: its /64 and its /48.
          if (address.includes(':')) {
            const v6 = v6Groups(address, 4);
            hash.pass(v6, v6.lastIndexOf(':'));
          } else {
            hash.pass(address, address.lastIndexOf('.'));
          }
          addresses.hashes[a * ADDRESS_HASHES + UNIT] = hash.whole('ip');
          addresses.hashes[a * ADDRESS_HASHES + SUBNET] = hash.prefix('subnet');
        }
        const ah = a * ADDRESS_HASHES;
        const aSlot = a * ADDRESS_SLOTS;
        const as = addresses.slots;
        if (ipTable) {
          ip = ipTable.add(addresses.hashes[ah + UNIT]!, member, at, as[aSlot + UNIT]!);
          as[aSlot + UNIT] = ipTable.lastAt;
        }
        if (subnetTable) {
          subnet = subnetTable.add(addresses.hashes[ah + SUBNET]!, member, at, as[aSlot + SUBNET]!);
          as[aSlot + SUBNET] = subnetTable.lastAt;
        }
      }
      let phoneCountries = 0;
      if (phoneTable) {
        // An IP of unknown country adds none, but the number's count still shows.
        const country = ctx.ip.country;
        const seen = country === null ? -1 : countryHash(country);
        phoneCountries = phoneTable.add(nh[nHash + PHONE]!, seen, at, ns[nSlot + PHONE_SLOT]!);
        ns[nSlot + PHONE_SLOT] = phoneTable.lastAt;
      }
      let prefix = 0;
      if (prefixTable && blockKey >= 0) {
        prefix = prefixTable.add(blockKey, member, at, ns[nSlot + BLOCK_SLOT]!);
        ns[nSlot + BLOCK_SLOT] = prefixTable.lastAt;
      }
      let sent = -1;
      let verified = 0;
      if (otp && blockKey >= 0) {
        sent = conversion.add(nh[nHash + SENT]!, member, at, ns[nSlot + SENT_SLOT]!);
        ns[nSlot + SENT_SLOT] = conversion.lastAt;
        verified = conversion.add(nh[nHash + VERIFIED]!, -1, at, ns[nSlot + VERIFIED_SLOT]!);
        ns[nSlot + VERIFIED_SLOT] = conversion.lastAt;
      }
      // A fresh object per check: the decision keeps it.
      const found = { ip, subnet, phoneCountries, prefix };
      ctx.velocity = found;
      return verdict(s, found, sent, verified);
    },
    verified(number: string): void {
      const end = blockEnd(number, digits);
      if (end < 0) return;
      hash.pass(number, end);
      conversion.add(hash.prefix('verified'), hash.whole('number'), now());
    },
    clear() {
      counters.clear();
      numbers.clear();
      addresses.clear();
    },
  };
}
