import { describe, expect, test } from 'vitest';
import { compilePhonePath, phonePathProblem } from '../../src/adapters/shared/phone-path.js';

describe('compilePhonePath', () => {
  test('reads a top-level field', () => {
    expect(compilePhonePath('phone')({ phone: '+447400123456' })).toBe('+447400123456');
  });

  test('reads nested fields and array elements', () => {
    expect(compilePhonePath('user.phone')({ user: { phone: '+12025550123' } })).toBe('+12025550123');
    expect(compilePhonePath('a.b.c.phone')({ a: { b: { c: { phone: 'x' } } } })).toBe('x');
    expect(compilePhonePath('contacts.1.phone')({ contacts: [{ phone: 'a' }, { phone: 'b' }] })).toBe('b');
  });

  test('gives undefined, never throws, when the body has another shape', () => {
    const read = compilePhonePath('user.phone');
    for (const body of [
      undefined,
      null,
      'user.phone',
      42,
      [],
      {},
      { user: null },
      { user: 'x' },
      { user: [] },
    ]) {
      expect(read(body)).toBeUndefined();
    }
    expect(compilePhonePath('a.b.c')({ a: { b: 7 } })).toBeUndefined();
  });

  test('reads null-prototype bodies (what urlencoded parsers produce)', () => {
    const body = Object.assign(Object.create(null), { phone: '+447400123456' });
    expect(compilePhonePath('phone')(body)).toBe('+447400123456');
  });

  test('never reads inherited properties', () => {
    const polluted = Object.create({ phone: '+447400123456', user: { phone: '+447400123456' } });
    expect(compilePhonePath('phone')(polluted)).toBeUndefined();
    expect(compilePhonePath('user.phone')(polluted)).toBeUndefined();
    expect(compilePhonePath('toString')({})).toBeUndefined();
    expect(compilePhonePath('hasOwnProperty')({})).toBeUndefined();
    expect(compilePhonePath('length')('a string')).toBeUndefined();
  });

  test('a JSON "__proto__" key is plain data: it does not become the phone', () => {
    const body = JSON.parse('{"__proto__": {"phone": "+447400123456"}}');
    expect(compilePhonePath('phone')(body)).toBeUndefined();
  });
});

describe('phonePathProblem', () => {
  test('accepts ordinary paths', () => {
    for (const path of ['phone', 'user.phone', 'items.0.phone', 'phone_number', 'a-b.c']) {
      expect(phonePathProblem(path)).toBeUndefined();
    }
  });

  test.each([
    ['__proto__', /"__proto__" is not allowed/],
    ['user.__proto__.phone', /"__proto__" is not allowed/],
    ['constructor.prototype', /"constructor" is not allowed/],
    ['user.prototype', /"prototype" is not allowed/],
    ['', /not an empty string/],
    ['user..phone', /empty segment/],
    ['.phone', /empty segment/],
    ['phone.', /empty segment/],
  ])('rejects %j', (path, message) => {
    expect(phonePathProblem(path)).toMatch(message);
    expect(() => compilePhonePath(path)).toThrow(message);
  });
});
