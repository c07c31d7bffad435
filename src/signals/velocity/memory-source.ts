/** Velocity counted in this process: synchronous, so that the offline check stays free of promises. */
import type { SignalContext } from '../../core/signal-source.js';
import type { Signal } from '../../core/signals.js';
import { CONVERSION } from './conversion.js';
import { blockEnd, type MemoryHasher, memoryHasher, v6Groups } from './keys.js';
import { MemoryCounters } from './memory-counters.js';
import type { VelocitySettings } from './options.js';
import type { Counting } from './store-source.js';
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

  return {
    counters,
    count(ctx: SignalContext, otp: boolean): readonly Signal[] {
      const number = ctx.phone.number;
      if (number === null) return NO_SIGNALS;
      const at = ctx.now();
      const member = hash('number', number);
      const address = counts(ctx) ? ctx.ip.address : null;
      let ip = 0;
      let subnet = 0;
      if (address !== null) {
        const v6 = address.includes(':');
        if (s.ip) {
          const key = v6 ? hash('ip', v6Groups(address, 4)) : hash('ip', address);
          ip = counters.add(key, member, s.ip.windowMs, ipCap, at);
        }
        if (s.subnet) {
          const key = v6
            ? hash('subnet', v6Groups(address, 3))
            : hash('subnet', address, address.lastIndexOf('.'));
          subnet = counters.add(key, member, s.subnet.windowMs, subnetCap, at);
        }
      }
      let phoneCountries = 0;
      if (s.phone) {
        // An IP of unknown country adds none, but the number's count still shows.
        const country = ctx.ip.country;
        const seen = country === null ? -1 : hash('country', country);
        phoneCountries = counters.add(hash('phone', number), seen, s.phone.windowMs, phoneCap, at);
      }
      const end = blockEnd(number, digits);
      const prefix =
        s.prefix && end > 0
          ? counters.add(hash('block', number, end), member, s.prefix.windowMs, prefixCap, at)
          : 0;
      let sent = -1;
      let verified = 0;
      if (otp && end > 0) {
        sent = counters.add(hash('sent', number, end), member, CONVERSION.windowMs, CONVERSION.cap, at);
        verified = counters.add(hash('verified', number, end), -1, CONVERSION.windowMs, CONVERSION.cap, at);
      }
      const found = { ip, subnet, phoneCountries, prefix };
      ctx.velocity = found;
      return verdict(s, found, sent, verified);
    },
    verified(number: string): void {
      const end = blockEnd(number, digits);
      if (end < 0) return;
      const key = hash('verified', number, end);
      counters.add(key, hash('number', number), CONVERSION.windowMs, CONVERSION.cap, now());
    },
    clear: () => counters.clear(),
  };
}
