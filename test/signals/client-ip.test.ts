import { describe, expect, it } from 'vitest';
import type { SignalContext } from '../../src/core/signal-source.js';
import { clientIpSignals } from '../../src/signals/client-ip/index.js';

const ctx = (address: string | null, readsIpHeader: boolean): SignalContext => ({
  phone: { number: '+447400123456', country: 'GB', roamingCountry: null, type: null },
  ip: { address, country: null, network: null },
  route: { readsIpHeader },
  now: () => 0,
});

describe('ip_missing (src/signals/client-ip)', () => {
  it('runs only on a route that reads the client IP from a header', () => {
    expect(clientIpSignals.forRoute!({ readsIpHeader: false })).toBeUndefined();
    const compiled = clientIpSignals.forRoute!({ readsIpHeader: true })!;
    expect(compiled.evaluate(ctx(null, true))).toEqual(['ip_missing']);
    expect(compiled.evaluate(ctx('81.2.69.160', true))).toEqual([]);
  });
});
