import { describe, expect, it } from 'vitest';
import { isCut, listenForCut, runWithBudget, stopListening } from '../../src/core/budget.js';
import type { IpMatchProvider, LookupRequest, PhoneLookup } from '../../src/core/provider.js';

const phone = { number: '+447700900001', country: 'GB', valid: true };
const request = { phone, ip: '81.2.69.160', clientIp: '81.2.69.160' };
const afterIo = () => new Promise((resolve) => setImmediate(resolve));

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
    const started = performance.now();
    await expect(runWithBudget(hung(seen), request, started, 30)).rejects.toThrow();
    expect(seen[0]).toMatchObject({ ...request, deadline: started + 30 });
    expect(seen[0]!.signal.aborted).toBe(false);
    await afterIo();
    expect(seen[0]!.signal.aborted).toBe(true);
  });

  it('passes a working signal through a provider that spreads the request', async () => {
    const seen: LookupRequest[] = [];
    const spreading = hung(seen, (r) => ({ ...r }));
    await expect(runWithBudget(spreading, request, performance.now(), 20)).rejects.toThrow();
    await afterIo();
    expect(seen[0]!.signal).toBeInstanceOf(AbortSignal);
    expect(seen[0]!.signal.aborted).toBe(true);
  });

  it('hands an aborted signal to a provider that first reads it after the cut', async () => {
    const seen: LookupRequest[] = [];
    await expect(runWithBudget(hung(seen), request, performance.now(), 20)).rejects.toThrow();
    await afterIo();
    // Read only now: no AbortSignal was made before.
    expect(seen[0]!.signal.aborted).toBe(true);
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
    await afterIo();
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
    await afterIo();
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
