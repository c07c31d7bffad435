/**
 * fast-check numbers of every region with a mobile example: its first 0–2 national digits, then random digits to
 * about the example's length, so that every type of range is reached (about a quarter of them are valid).
 */
import fc from 'fast-check';
import { getCountries, getExampleNumber } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';

const regions = getCountries().filter((c) => getExampleNumber(c, examples) !== undefined);

export const regionNumber: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...regions), fc.integer({ min: 0, max: 2 }), fc.integer({ min: -1, max: 1 }))
  .chain(([region, keep, extra]) => {
    const example = getExampleNumber(region, examples)!;
    const length = Math.max(1, example.nationalNumber.length + extra - keep);
    return fc
      .array(fc.integer({ min: 0, max: 9 }), { minLength: length, maxLength: length })
      .map(
        (digits) =>
          `+${example.countryCallingCode}${example.nationalNumber.slice(0, keep)}${digits.join('')}`,
      );
  });
