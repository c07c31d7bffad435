import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { readV6Words } from '../../src/geodata/nature/v6-words.js';

const words = (text: string): number[] => {
  const p = ipaddr.IPv6.parse(text).parts;
  return [0, 1, 2, 3].map((k) => p[k * 2]! * 65536 + p[k * 2 + 1]!);
};

describe('readV6Words (the table’s allocation-free IPv6 reader)', () => {
  it('agrees with ipaddr.js on every hex-group IPv6 address, compressed or not', () => {
    const key = new Uint32Array(4);
    fc.assert(
      fc.property(
        fc.ipV6().filter((a) => !a.includes('.')),
        (address) => {
          expect(readV6Words(address, key)).toBe(true);
          expect([...key]).toEqual(words(address));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never accepts what ipaddr.js rejects, nor reads it differently', () => {
    const key = new Uint32Array(4);
    const junk = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.stringMatching(/^[0-9a-f:]{0,41}$/),
      fc.ipV6().map((a) => `${a}:`),
    );
    fc.assert(
      fc.property(junk, (text) => {
        if (!readV6Words(text, key)) return;
        expect(ipaddr.IPv6.isValid(text)).toBe(true);
        expect([...key]).toEqual(words(text));
      }),
      { numRuns: 3000 },
    );
    for (const bad of [
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      ':1::',
      '1:2:3:4:5:6:7::8',
      '12345::',
      '::ffff:1.2.3.4',
      'fe80::1%eth0',
    ]) {
      expect(readV6Words(bad, key), bad).toBe(false);
    }
  });
});
