/** The IP-nature table builds each label's answer on its first match, not all of them when it is read. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadBundledNatureTable } from '../../src/geodata/nature/load.js';

afterEach(() => vi.restoreAllMocks());

describe('the IP-nature table at a cold start', () => {
  it('builds no answer when read (the shipped snapshot has hundreds of labels)', () => {
    const freeze = vi.spyOn(Object, 'freeze');
    const table = loadBundledNatureTable();
    expect(table.header.labels.length).toBeGreaterThan(100);
    expect(freeze).not.toHaveBeenCalled();
  });

  it('answers every address of a label with one shared frozen object, built once, on its first match', () => {
    const table = loadBundledNatureTable();
    const range = table.feedRanges('tor').find((r) => r.family === 4);
    expect(range).toBeDefined();
    const freeze = vi.spyOn(Object, 'freeze');
    const first = table.lookupV4(Number(range!.first));
    expect(first).not.toBeNull();
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first!.kinds)).toBe(true);
    expect(first!.kinds).toContain('tor');
    const built = freeze.mock.calls.length;
    expect(built).toBe(2); // the answer and its kinds
    expect(table.lookupV4(Number(range!.first))).toBe(first);
    expect(freeze).toHaveBeenCalledTimes(built);
  });
});
