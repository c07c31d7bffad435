import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parsePhoneFast } from '../../src/core/phone.js';
import { phoneType, phoneTypeUncached, typeAfterParse } from '../../src/core/phone-type.js';
import { regionNumber } from '../helpers/region-numbers.js';

// Numbers that share their last four digits (one slot of the table of recent answers), of several types, and one
// (+1 201…) whose type depends on the region hint: US types it, CA has no such range.
const NUMBERS = [
  '+447400123456',
  '+442071123456',
  '+447700123456',
  '+449090123456',
  '+12015550123',
  '+14165550123',
  '+33612340123',
  '+4915112340123',
  '+8821612340123',
  '+79161230123',
];
const REGIONS = ['GB', 'US', 'CA', 'FR', 'DE', 'RU', 'KZ', null];

describe('phoneType', () => {
  test('a repeated number gives the type computed afresh, whatever came between and whatever region it was typed for', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...NUMBERS), fc.constantFrom(...REGIONS)), {
          minLength: 1,
          maxLength: 40,
        }),
        (calls) => {
          for (const [number, region] of calls) {
            expect(phoneType(number, region)).toBe(phoneTypeUncached(number, region));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test('the same number typed for another region is typed again, not answered from its slot', () => {
    expect(phoneType('+12015550123', 'US')).toBe('fixed_line_or_mobile');
    expect(phoneType('+12015550123', 'CA')).toBe(phoneTypeUncached('+12015550123', 'CA'));
    expect(phoneTypeUncached('+12015550123', 'CA')).not.toBe('fixed_line_or_mobile');
  });

  const candidate = regionNumber;

  test('right after the fast path decides a number, its type from the patterns that path matched is the type computed afresh', () => {
    fc.assert(
      fc.property(candidate, (phone) => {
        const parsed = parsePhoneFast(phone);
        if (!parsed) return;
        expect(typeAfterParse(parsed.number, parsed.country)).toBe(
          phoneTypeUncached(parsed.number, parsed.country),
        );
      }),
      { numRuns: 5000 },
    );
  });
});
