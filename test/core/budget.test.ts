import { describe, expect, it } from 'vitest';
import { isCut, listenForCut, runWithBudget, stopListening } from '../../src/core/budget.js';
import type { IpMatchProvider, LookupRequest, PhoneLookup } from '../../src/core/provider.js';

const phone = { number: '+447700900001', country: 'GB', valid: true };
const request = { phone, ip: '81.2.69.160', clientIp: '81.2.69.160' };
/** Long enough for the teardown of spent budgets (a few ms after the last one ran out, 50 ms at most). */
const afterTeardown = () => new Promise((resolve) => setTimeout(resolve, 80));

/** A remote provider whose lookup never answers; `seen` gets each request it was given. */
function hung(seen: LookupRequest[], transform = (r: LookupRequest) => r): IpMatchProvider {
  return {
    name: 'hung',
    remote: true,
    keyIncludesIp: false,
    parsePhone: () => phone,
    ipCountry: () => 'GB',
    lookup(r) {
      seen.push(transform(r));
      return new Promise<PhoneLookup>(() => {});
    },
  };
}

describe('runWithBudget', () => {
  it('gives the provider the request, with a deadline and a signal that aborts when the budget runs out', async () => {
    const seen: LookupRequest[] = [];
    const signals: AbortSignal[] = [];
    const reading = hung(seen, (r) => {
      signals.push(r.signal);
      return r;
    });
    const started = performance.now();
    await expect(runWithBudget(reading, request, started, 30)).rejects.toThrow();
    expect(seen[0]).toMatchObject({ ...request, deadline: started + 30 });
    // The decision goes first; the lookup is torn down after.
    expect(signals[0]!.aborted).toBe(false);
    await afterTeardown();
    expect(signals[0]!.aborted).toBe(true);
  });

  it('passes a working signal through a provider that spreads the request', async () => {
    const seen: LookupRequest[] = [];
    const spreading = hung(seen, (r) => ({ ...r }));
    await expect(runWithBudget(spreading, request, performance.now(), 20)).rejects.toThrow();
    await afterTeardown();
    expect(seen[0]!.signal).toBeInstanceOf(AbortSignal);
    expect(seen[0]!.signal.aborted).toBe(true);
  });

  it('hands an aborted signal to a provider that first reads it after the cut', async () => {
    const seen: LookupRequest[] = [];
    await expect(runWithBudget(hung(seen), request, performance.now(), 20)).rejects.toThrow();
    await afterTeardown();
    // Read only now: no AbortSignal was made before.
    expect(seen[0]!.signal.aborted).toBe(true);
  });
});

describe('the teardown of spent budgets', () => {
  it('decides every check whose budget ran out together before it aborts any lookup', async () => {
    const seen: LookupRequest[] = [];
    const events: string[] = [];
    const start = performance.now();
    const budgets = Array.from({ length: 20 }, (_, i) =>
      runWithBudget(hung(seen), request, start + i, 20).catch(() => events.push('decided')),
    );
    await Promise.resolve();
    await Promise.resolve();
    for (const r of seen) r.signal.addEventListener('abort', () => events.push('aborted'));
    await Promise.all(budgets);
    await afterTeardown();
    expect(events).toEqual([...Array(20).fill('decided'), ...Array(20).fill('aborted')]);
  });

  it('does not wait for a quiet moment for ever: budgets running out without pause are torn down within ~50 ms', async () => {
    const seen: LookupRequest[] = [];
    const start = performance.now();
    // One budget runs out every 2 ms for 200 ms.
    const budgets = Array.from({ length: 100 }, (_, i) =>
      runWithBudget(hung(seen), request, start + 2 * i, 20).catch(() => {}),
    );
    await Promise.resolve();
    await Promise.resolve();
    let firstAbortAt = 0;
    seen[0]!.signal.addEventListener('abort', () => {
      firstAbortAt = performance.now();
    });
    await Promise.all(budgets);
    await afterTeardown();
    expect(seen.every((r) => r.signal.aborted)).toBe(true);
    // The first ran out at start + 20; its abort came in the first batch, not after the last budget.
    expect(firstAbortAt - (start + 20)).toBeLessThan(150);
  });
});

describe('listenForCut', () => {
  it("tells a listener of runWithBudget's request once, at the cut, without its AbortSignal", async () => {
    const seen: LookupRequest[] = [];
    const budget = runWithBudget(hung(seen), request, performance.now(), 20);
    await Promise.resolve();
    await Promise.resolve();
    const r = seen[0]!;
    let told = 0;
    listenForCut(r, { handleEvent: () => told++ });
    expect(isCut(r)).toBe(false);
    await expect(budget).rejects.toThrow();
    await afterTeardown();
    expect([told, isCut(r)]).toEqual([1, true]);
  });

  it('tells no listener that stopped listening', async () => {
    const seen: LookupRequest[] = [];
    const budget = runWithBudget(hung(seen), request, performance.now(), 20);
    await Promise.resolve();
    await Promise.resolve();
    const listener = { handleEvent: () => expect.unreachable() };
    listenForCut(seen[0]!, listener);
    stopListening(seen[0]!, listener);
    await expect(budget).rejects.toThrow();
    await afterTeardown();
    expect(isCut(seen[0]!)).toBe(true);
  });

  it('listens to the AbortSignal of any other request', () => {
    const controller = new AbortController();
    const other = { signal: controller.signal };
    let told = 0;
    const listener = { handleEvent: () => told++ };
    listenForCut(other, listener);
    expect(isCut(other)).toBe(false);
    controller.abort();
    expect([told, isCut(other)]).toEqual([1, true]);
    const later = new AbortController();
    listenForCut({ signal: later.signal }, listener);
    stopListening({ signal: later.signal }, listener);
    later.abort();
    expect(told).toBe(1);
  });
});
