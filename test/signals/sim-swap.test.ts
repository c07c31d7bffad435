import { createIpMatch, type IpMatch } from 'ipmatch';
import { describe, expect, it } from 'vitest';
import { internals } from '../../src/core/internal.js';
import type { SignalContext } from '../../src/core/signal-source.js';
import { simSwapSignals } from '../../src/signals/sim-swap/index.js';
import { memoryLogger } from '../helpers/logger.js';
import { stubRemoteProvider } from '../helpers/stub-provider.js';

const ctx = (simSwap?: { swapped: boolean; at: string | null }): SignalContext => ({
  phone: {
    number: '+447400123456',
    country: 'GB',
    roamingCountry: null,
    type: null,
    ...(simSwap ? { simSwap } : {}),
  },
  ip: { address: '81.2.69.160', country: 'GB', network: null },
  route: { readsIpHeader: false },
  now: () => 0,
});

describe('sim_swapped (src/signals/sim-swap)', () => {
  it('fires only when the provider found the SIM swapped within its period', () => {
    expect(simSwapSignals.evaluate(ctx({ swapped: true, at: '2026-12-01T00:00:00Z' }))).toEqual([
      'sim_swapped',
    ]);
    expect(simSwapSignals.evaluate(ctx({ swapped: false, at: null }))).toEqual([]);
    expect(simSwapSignals.evaluate(ctx())).toEqual([]);
  });

  it("reaches the decision from the provider's simSwap fact, through the cache too, and blocks with its own 403 cause", async () => {
    let calls = 0;
    const provider = stubRemoteProvider(() => {
      calls++;
      return { country: 'GB', roamingCountry: null, facts: { simSwap: { swapped: true, at: null } } };
    });
    const core = createIpMatch({ provider, logger: memoryLogger(), policy: { sim_swapped: 'block' } });
    try {
      const first = await core.check({ phone: '+447400123456', ip: '81.2.69.160' });
      const again = await core.check({ phone: '+447400123456', ip: '81.2.69.160' });
      expect(first).toMatchObject({ signals: ['sim_swapped'], action: 'block', cached: false });
      expect(again).toMatchObject({ signals: ['sim_swapped'], action: 'block', cached: true });
      expect(calls).toBe(1);
    } finally {
      await core.close();
    }
  });

  it('is left out of a core whose provider has no lookup: the offline check does not run it for nothing', () => {
    const offline = createIpMatch({ logger: memoryLogger() });
    const remote = createIpMatch({ logger: memoryLogger(), provider: stubRemoteProvider() });
    const names = (core: IpMatch) =>
      internals(core)!
        .compileRoute({})
        .sources.map((s) => s.name);
    expect(names(offline)).not.toContain('sim-swap');
    expect(names(remote)).toContain('sim-swap');
    return Promise.all([offline.close(), remote.close()]);
  });
});
