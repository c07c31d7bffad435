import { describe, expect, it } from 'vitest';
import { collectSignals } from '../../../src/core/check/signals.js';
import type { SignalContext, SignalSource } from '../../../src/core/signal-source.js';
import type { Signal } from '../../../src/core/signals.js';

const ctx: SignalContext = {
  phone: { number: '+447400123456', country: 'GB', roamingCountry: null, type: null },
  ip: { address: '81.2.69.160', country: 'GB', network: null },
  route: { readsIpHeader: false },
  now: () => 0,
};
const source = (name: string, evaluate: SignalSource['evaluate']): SignalSource => ({
  name,
  signals: ['sim_swapped', 'ip_missing'],
  evaluate,
});
const never = () => {
  throw new Error('no source may fail here');
};

describe('collectSignals', () => {
  it('stays synchronous when every source answers at once, and keeps the route order without repeats', () => {
    const got = collectSignals(
      [source('a', () => ['ip_missing']), source('b', () => ['sim_swapped', 'ip_missing'])],
      ctx,
      undefined,
      never,
    );
    expect(got).toEqual(['ip_missing', 'sim_swapped']);
  });

  it("copies the lookup's own signals first, so a shared lookup never shares its array", () => {
    const given: Signal[] = ['sim_swapped'];
    const got = collectSignals([], ctx, given, never) as Signal[];
    expect(got).toEqual(['sim_swapped']);
    expect(got).not.toBe(given);
  });

  it('waits for an asynchronous source, and adds the later ones in order', async () => {
    const got = collectSignals(
      [source('a', async () => ['sim_swapped']), source('b', () => ['ip_missing'])],
      ctx,
      undefined,
      never,
    );
    expect(got).toBeInstanceOf(Promise);
    expect(await got).toEqual(['sim_swapped', 'ip_missing']);
  });

  it('reports a source that throws or rejects, and goes on without its signals', async () => {
    const failed: string[] = [];
    const onError = (s: SignalSource) => failed.push(s.name);
    const sync = collectSignals(
      [
        source('throws', () => {
          throw new Error('bug');
        }),
        source('ok', () => ['ip_missing']),
      ],
      ctx,
      undefined,
      onError,
    );
    expect(sync).toEqual(['ip_missing']);
    const rejected = await collectSignals(
      [source('rejects', () => Promise.reject(new Error('down'))), source('ok', () => ['sim_swapped'])],
      ctx,
      undefined,
      onError,
    );
    expect(rejected).toEqual(['sim_swapped']);
    expect(failed).toEqual(['throws', 'rejects']);
  });
});
