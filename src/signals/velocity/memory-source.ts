/** Velocity counted in this process: synchronous, so that the offline check stays free of promises. */
import { ipv4Value } from '../../core/ip.js';
import type { SignalContext } from '../../core/signal-source.js';
import type { Signal } from '../../core/signals.js';
import type { VelocitySettings } from '../../core/velocity-options.js';
import { CONVERSION } from './conversion.js';
import type { Counting } from './counting.js';
import { blockEnd, type MemoryHasher, memoryHasher, v6Groups } from './keys.js';
import { MemoryCounters } from './memory-counters.js';
import { Recent } from './recent.js';
import { capFor, NO_SIGNALS, verdictFor } from './verdict.js';

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
 * Counts with a MemoryCounters and seeded hashes (keys.ts): no number, block or IP is held in clear in a counter
 * (the recent entries keep the last few as the check had them, in process memory: recent.ts). `counts` decides
 * whether a check's IP counts (public, outside `allow`). `hash` and `counters` are injectable for tests.
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
  const signalsOf = verdictFor(s);
  // The last IP country and its hash: most checks in a row come from one country.
  let lastCountry: string | null = null;
  let lastCountryHash = -1;

  /** A number new to its recent entry (at `~n`): its block and whole hashed in one pass. */
  const takeNumber = (n: number, number: string): number => {
    numbers.take(n, number);
    const end = blockEnd(number, digits);
    hash.pass(number, end);
    numbers.setHash(n, MEMBER, hash.whole('number'));
    numbers.setHash(n, PHONE, hash.whole('phone'));
    numbers.setHash(n, BLOCK, end > 0 ? hash.prefix('block') : -1);
    numbers.setHash(n, SENT, end > 0 ? hash.prefix('sent') : -1);
    numbers.setHash(n, VERIFIED, end > 0 ? hash.prefix('verified') : -1);
    return n;
  };

  /** An IP new to its recent entry (at `~a`). IPv4: the address (/32) and its /24; IPv6: its /64 and its /48. */
  const takeAddress = (a: number, address: string): number => {
    addresses.take(a, address);
    if (address.includes(':')) {
      const v6 = v6Groups(address, 4);
      hash.pass(v6, v6.lastIndexOf(':'));
    } else {
      hash.pass(address, address.lastIndexOf('.'));
    }
    addresses.setHash(a, UNIT, hash.whole('ip'));
    addresses.setHash(a, SUBNET, hash.prefix('subnet'));
    return a;
  };

  return {
    counters,
    count(ctx: SignalContext, otp: boolean): readonly Signal[] {
      const number = ctx.phone.number;
      if (number === null) return NO_SIGNALS;
      const at = ctx.now();
      // The number's hashes: from its recent entry, or its block and whole in one pass.
      let n = numbers.find(number);
      if (n < 0) n = takeNumber(~n, number);
      const member = numbers.hash(n, MEMBER);
      const blockKey = numbers.hash(n, BLOCK);
      const address = counts(ctx) ? ctx.ip.address : null;
      let ip = 0;
      let subnet = 0;
      if (address !== null && (ipTable || subnetTable)) {
        // A canonical IPv4 address by its value (the check has just read it: no parse), else by its text.
        const v4 = ipv4Value(address);
        let a = v4 >= 0 ? addresses.findValue(v4) : addresses.find(address);
        if (a < 0) a = takeAddress(~a, address);
        if (ipTable) {
          ip = ipTable.add(addresses.hash(a, UNIT), member, at, addresses.slot(a, UNIT));
          addresses.setSlot(a, UNIT, ipTable.lastAt);
        }
        if (subnetTable) {
          subnet = subnetTable.add(addresses.hash(a, SUBNET), member, at, addresses.slot(a, SUBNET));
          addresses.setSlot(a, SUBNET, subnetTable.lastAt);
        }
      }
      let phoneCountries = 0;
      if (phoneTable) {
        // An IP of unknown country adds none, but the number's count still shows.
        const country = ctx.ip.country;
        let seen = -1;
        if (country !== null) {
          if (country !== lastCountry) {
            lastCountryHash = countryHash(country);
            lastCountry = country;
          }
          seen = lastCountryHash;
        }
        phoneCountries = phoneTable.add(numbers.hash(n, PHONE), seen, at, numbers.slot(n, PHONE_SLOT));
        numbers.setSlot(n, PHONE_SLOT, phoneTable.lastAt);
      }
      let prefix = 0;
      if (prefixTable && blockKey >= 0) {
        prefix = prefixTable.add(blockKey, member, at, numbers.slot(n, BLOCK_SLOT));
        numbers.setSlot(n, BLOCK_SLOT, prefixTable.lastAt);
      }
      let sent = -1;
      let verified = 0;
      if (otp && blockKey >= 0) {
        sent = conversion.add(numbers.hash(n, SENT), member, at, numbers.slot(n, SENT_SLOT));
        numbers.setSlot(n, SENT_SLOT, conversion.lastAt);
        verified = conversion.add(numbers.hash(n, VERIFIED), -1, at, numbers.slot(n, VERIFIED_SLOT));
        numbers.setSlot(n, VERIFIED_SLOT, conversion.lastAt);
      }
      // A fresh object per check: the decision keeps it.
      const found = { ip, subnet, phoneCountries, prefix };
      ctx.velocity = found;
      return signalsOf(ip, subnet, phoneCountries, prefix, sent, verified);
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
