/** Velocity counted in this process: synchronous, so that the offline check stays free of promises. */
import type { SignalContext } from '../../core/signal-source.js';
import type { Signal } from '../../core/signals.js';
import { CONVERSION } from './conversion.js';
import type { Counting } from './counting.js';
import { blockEnd, type MemoryHasher, memoryHasher, v6Groups } from './keys.js';
import { MemoryCounters } from './memory-counters.js';
import type { VelocitySettings } from './options.js';
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
  const ipCap = s.ip ? capFor(s.ip.max) : 0;
  const subnetCap = s.subnet ? capFor(s.subnet.max) : 0;
  const phoneCap = s.phone ? capFor(s.phone.maxCountries) : 0;
  const prefixCap = s.prefix ? capFor(s.prefix.max) : 0;
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
        if (s.ip) ip = counters.add(hash.whole('ip'), member, s.ip.windowMs, ipCap, at);
        if (s.subnet) subnet = counters.add(hash.prefix('subnet'), member, s.subnet.windowMs, subnetCap, at);
      }
      let phoneCountries = 0;
      if (s.phone) {
        // An IP of unknown country adds none, but the number's count still shows.
        const country = ctx.ip.country;
        const seen = country === null ? -1 : countryHash(country);
        phoneCountries = counters.add(phoneKey, seen, s.phone.windowMs, phoneCap, at);
      }
      const prefix =
        s.prefix && blocked ? counters.add(blockKey, member, s.prefix.windowMs, prefixCap, at) : 0;
      let sent = -1;
      let verified = 0;
      if (sentKey >= 0) {
        sent = counters.add(sentKey, member, CONVERSION.windowMs, CONVERSION.cap, at);
        verified = counters.add(verifiedKey, -1, CONVERSION.windowMs, CONVERSION.cap, at);
      }
      const found = { ip, subnet, phoneCountries, prefix };
      ctx.velocity = found;
      return verdict(s, found, sent, verified);
    },
    verified(number: string): void {
      const end = blockEnd(number, digits);
      if (end < 0) return;
      hash.pass(number, end);
      counters.add(hash.prefix('verified'), hash.whole('number'), CONVERSION.windowMs, CONVERSION.cap, now());
    },
    clear: () => counters.clear(),
  };
}
