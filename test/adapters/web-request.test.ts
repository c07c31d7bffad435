import fc from 'fast-check';
import { expect, test } from 'vitest';
import { mediaType } from '../../src/adapters/shared/web-request.js';

/** What mediaType means: the Content-Type before any parameters, trimmed and lower-cased. */
const reference = (contentType: string | null | undefined) =>
  (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();

test('mediaType gives the media type of any Content-Type, as split, trim and lower-case would', () => {
  const typed = fc.constantFrom(
    'application/json',
    'Application/JSON; charset=utf-8',
    ' application/x-www-form-urlencoded ;charset=UTF-8',
    'multipart/form-data; boundary=x',
    'text/plain',
    ';',
    '',
  );
  fc.assert(
    fc.property(fc.oneof(typed, fc.string(), fc.constant(null), fc.constant(undefined)), (contentType) => {
      expect(mediaType(contentType)).toBe(reference(contentType));
    }),
    { numRuns: 2000 },
  );
});
