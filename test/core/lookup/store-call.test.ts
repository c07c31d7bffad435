import { describe, expect, it } from 'vitest';
import {
  bounded,
  FAILED,
  OUTAGE_QUIET_MS,
  type StoreOperation,
  storeCaller,
} from '../../../src/core/lookup/store-call.js';

const never = () => new Promise<never>(() => {});

describe('bounded: one store call within its budget', () => {
  it('answers a synchronous store at once, without waiting out its budget', async () => {
    const started = performance.now();
    expect(await bounded(() => 'v', 10_000)).toEqual({ value: 'v' });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('never rejects: a throw, a rejection and a hang each come back as { error }', async () => {
    const boom = new Error('boom');
    expect(
      await bounded(() => {
        throw boom;
      }, 50),
    ).toEqual({ error: boom });
    expect(await bounded(() => Promise.reject(boom), 50)).toEqual({ error: boom });
    const hung = await bounded(never, 20);
    expect('error' in hung && String(hung.error)).toMatch(/store timeout after 20 ms/);
  });
});

describe('storeCaller: a failing store is reported once per outage', () => {
  it('reports the first failure, not one after a call that worked, and again after 30 s without one', async () => {
    const heard: StoreOperation[] = [];
    let t = 0;
    const call = storeCaller(
      20,
      (operation) => heard.push(operation),
      () => t,
    );
    expect(await call('get', () => Promise.reject(new Error('down')))).toBe(FAILED);
    expect(await call('set', never)).toBe(FAILED);
    expect(heard).toEqual(['get']);
    // One master of a cluster down: calls that work and calls that fail in turn are one outage.
    for (let i = 0; i < 20; i++) {
      t += 1_000;
      expect(await call('get', async () => 'up')).toBe('up');
      expect(await call('lock', () => Promise.reject(new Error('down')))).toBe(FAILED);
    }
    expect(heard).toEqual(['get']);
    t += OUTAGE_QUIET_MS - 1;
    expect(await call('set', () => Promise.reject(new Error('down')))).toBe(FAILED);
    expect(heard).toEqual(['get']);
    t += OUTAGE_QUIET_MS;
    expect(await call('unlock', () => Promise.reject(new Error('down again')))).toBe(FAILED);
    expect(heard).toEqual(['get', 'unlock']);
  });
});
