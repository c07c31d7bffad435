import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hmacSha256Hex } from '../../src/stores/hmac.js';

describe('hmacSha256Hex', () => {
  it('is exactly createHmac("sha256", secret).update(text).digest("hex"), whatever the secret and the text', () => {
    const text = fc.oneof(
      fc.stringMatching(/^[0-9a-f]{0,80}(:lock)?$/),
      fc.string({ maxLength: 100 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
    );
    // Secrets shorter and longer than SHA-256's 64-byte block, and non-ASCII ones (several bytes a char).
    const secret = fc.oneof(
      fc.string({ minLength: 16, maxLength: 120 }),
      fc.string({ unit: 'grapheme', minLength: 16, maxLength: 40 }),
    );
    fc.assert(
      fc.property(secret, fc.array(text, { minLength: 1, maxLength: 5 }), (key, texts) => {
        const hmac = hmacSha256Hex(key);
        for (const t of texts) expect(hmac(t)).toBe(createHmac('sha256', key).update(t).digest('hex'));
      }),
      { numRuns: 500 },
    );
  });

  it('a secret of exactly 64 bytes is used as it is, one of 65 is hashed first (RFC 2104)', () => {
    for (const key of ['k'.repeat(64), 'k'.repeat(65), 'é'.repeat(32), 'é'.repeat(33)]) {
      expect(hmacSha256Hex(key)('0123abcd')).toBe(createHmac('sha256', key).update('0123abcd').digest('hex'));
    }
  });
});
