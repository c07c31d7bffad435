import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { phoneHints, phoneLikePath } from '../../src/adapters/shared/phone-hints.js';
import { compilePhonePath } from '../../src/adapters/shared/phone-path.js';

describe('phoneLikePath: where else a body holds a phone number', () => {
  test.each<[string, unknown, string | undefined]>([
    ['one level down', { user: { name: 'Ada', phone: '+44 7400 123456' } }, 'user.phone'],
    ['a sibling key', { mobile: '07400 123456' }, 'mobile'],
    ['too deep', { a: { b: { phone: '+447400123456' } } }, undefined],
    ['too few digits', { zip: '12345', year: '1999' }, undefined],
    ['too many digits', { card: '4111 1111 1111 1111 111' }, undefined],
    ['a prototype key', JSON.parse('{"__proto__": {"phone": "+447400123456"}}'), undefined],
    ['a key with a control character', { 'ph\u001bone': '+447400123456' }, undefined],
    ['an array', ['+447400123456'], undefined],
  ])('%s', (_, body, path) => {
    expect(phoneLikePath(body)).toBe(path);
  });

  test('any JSON body: no path, or a path of plain keys that a route can read, holding a phone-like string', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (body) => {
        const path = phoneLikePath(body);
        if (path === undefined) return;
        expect(path).toMatch(/^[A-Za-z_$][\w$-]*(\.[A-Za-z_$][\w$-]*)?$/);
        expect(compilePhonePath(path)(body)).toMatch(/^\+?[\d\s().-]+$/);
      }),
      { numRuns: 500 },
    );
  });
});

describe('phoneHints', () => {
  const hints = (options: { path?: string; hasRegion?: boolean } = {}) => {
    const warned: [string, string][] = [];
    const inner = { warnOnce: (code: string, message: string) => void warned.push([code, message]) };
    const { path = 'phone', hasRegion = false } = options;
    return { warned, hints: phoneHints(inner, { path, hasRegion, bodyParsers: 'a parser' }) };
  };

  test('a national-format number hints at a region only when none is set, and never logs the number', () => {
    const none = hints();
    none.hints.invalid('07400 123456');
    none.hints.invalid('+44 nope');
    expect(none.warned.map(([code]) => code)).toEqual(['IPMATCH_NATIONAL_NUMBER']);
    expect(none.warned[0]![1]).not.toMatch(/7400/);
    const set = hints({ hasRegion: true });
    set.hints.invalid('07400 123456');
    expect(set.warned).toEqual([]);
  });

  test('a phone at another path: one hint naming the path, without the number', () => {
    const { warned, hints: h } = hints();
    h.missing({ user: { phone: '+447400123456' } });
    h.missing({ contact: { tel: '+12025550123' } });
    expect(warned).toHaveLength(1);
    expect(warned[0]![1]).toContain("phone: 'user.phone'");
    expect(warned[0]![1]).not.toMatch(/7400|123456/);
  });
});
