/** The in-memory velocity hashes' secret: drawn from /dev/urandom on Node, Web Crypto where that cannot be read. */
import fs from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryHasher } from '../../src/signals/velocity/keys.js';

afterEach(() => vi.restoreAllMocks());

describe("velocity in memory: the hashes' seed", () => {
  it('comes from /dev/urandom on Node, without Web Crypto (whose first load costs a cold start ~3 ms)', () => {
    const getRandomValues = vi.spyOn(globalThis.crypto, 'getRandomValues');
    const openSync = vi.spyOn(fs, 'openSync');
    const hashes = new Set<number>();
    for (let i = 0; i < 8; i++) hashes.add(memoryHasher().hash('phone', '+447400123456'));
    expect(getRandomValues).not.toHaveBeenCalled();
    expect(openSync).toHaveBeenCalledWith('/dev/urandom', 'r');
    // A new secret per hasher: eight seeds drawn, eight different hashes of the same number.
    expect(hashes.size).toBe(8);
  });

  it('falls back to Web Crypto when /dev/urandom cannot be read', () => {
    vi.spyOn(fs, 'openSync').mockImplementation(() => {
      throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    });
    const getRandomValues = vi.spyOn(globalThis.crypto, 'getRandomValues');
    const a = memoryHasher().hash('ip', '203.0.113.7');
    const b = memoryHasher().hash('ip', '203.0.113.7');
    expect(getRandomValues).toHaveBeenCalledTimes(2);
    expect(a).not.toBe(b);
  });

  it('falls back to Web Crypto when /dev/urandom gives fewer bytes than asked', () => {
    vi.spyOn(fs, 'readSync').mockReturnValue(3);
    const getRandomValues = vi.spyOn(globalThis.crypto, 'getRandomValues');
    memoryHasher().hash('number', '+447400123456');
    expect(getRandomValues).toHaveBeenCalledTimes(1);
  });
});
