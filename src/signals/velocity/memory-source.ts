/** Velocity counted in this process: synchronous, so that the offline check stays free of promises. */
import type { SignalContext } from '../../core/signal-source.js';
import type { Signal } from '../../core/signals.js';
import type { VelocitySettings } from '../../core/velocity-options.js';
import { CONVERSION } from './conversion.js';
import type { Counting } from './counting.js';
import { blockEnd, type MemoryHasher, memoryHasher, v6Groups } from './keys.js';
import { MemoryCounters } from './memory-counters.js';
import { capFor, NO_SIGNALS, verdict } from './verdict.js';

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

  return {
    counters,
    count(ctx: SignalContext, otp: boolean): readonly Signal[] {
      const number = ctx.phone.number;
      if (number === null) return NO_SIGNALS;
      const at = ctx.now();
      // The number and its block in one pass, then the IP and its subnet in another: every key of the check.
      const end = blockEnd(number, digits);
      hash.pass(number, end);
      const member = hash.whole('number');
      const phoneKey = hash.whole('phone');
      const blocked = end > 0;
      const blockKey = blocked ? hash.prefix('block') : -1;
      const sentKey = blocked && otp ? hash.prefix('sent') : -1;
      const verifiedKey = blocked && otp ? hash.prefix('verified') : -1;
      const address = counts(ctx) ? ctx.ip.address : null;
      let ip = 0;
      let subnet = 0;
      if (address !== null && (s.ip || s.subnet)) {
        // IPv4: the address (/32) and its /24; IPv6: its /64 and its /48.
        if (address.includes(':')) {
          const v6 = v6Groups(address, 4);
          hash.pass(v6, v6.lastIndexOf(':'));
        } else {
          hash.pass(address, address.lastIndexOf('.'));
        }
        if (ipTable) ip = ipTable.add(hash.whole('ip'), member, at);
        if (subnetTable) subnet = subnetTable.add(hash.prefix('subnet'), member, at);
      }
      let phoneCountries = 0;
      if (phoneTable) {
        // An IP of unknown country adds none, but the number's count still shows.
        const country = ctx.ip.country;
        const seen = country === null ? -1 : countryHash(country);
        phoneCountries = phoneTable.add(phoneKey, seen, at);
      }
      const prefix = prefixTable && blocked ? prefixTable.add(blockKey, member, at) : 0;
      let sent = -1;
      let verified = 0;
      if (sentKey >= 0) {
        sent = conversion.add(sentKey, member, at);
        verified = conversion.add(verifiedKey, -1, at);
      }
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
    clear: () => counters.clear(),
  };
}
