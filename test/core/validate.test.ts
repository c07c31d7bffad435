import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { IpMatchConfigError } from '../../src/core/errors.js';
import { holdsSecrets, nearest, parseOptions } from '../../src/core/validate.js';

describe('parseOptions', () => {
  const schema = z.strictObject({
    phone: z.optional(z.string()),
    clientIp: z.optional(z.enum(['framework', 'request-ip'])),
  });

  it('returns the parsed options when they are valid', () => {
    expect(parseOptions(schema, { phone: 'user.phone' }, 'route options')).toEqual({ phone: 'user.phone' });
    expect(parseOptions(schema, undefined, 'route options')).toEqual({});
  });

  it('names every bad field, with a did-you-mean for typos', () => {
    try {
      parseOptions(schema, { phnoe: 'x', clientIp: 'headers' }, 'route options');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(IpMatchConfigError);
      const e = err as IpMatchConfigError;
      expect(e.problems).toHaveLength(2);
      expect(e.message).toContain('ipmatch: invalid route options:');
      expect(e.message).toMatch(/phnoe: unknown option; did you mean "phone"\?/);
      expect(e.message).toMatch(/clientIp: .*"framework".*got "headers"/);
    }
  });

  it('suggests nothing for a name far from every option', () => {
    expect(nearest('zzzzzzzz', ['phone', 'policy'])).toBeUndefined();
    expect(nearest('polcy', ['phone', 'policy'])).toBe('policy');
  });

  it('adds a did-you-mean to a mistyped value', () => {
    expect(() => parseOptions(schema, { clientIp: 'framwork' }, 'route options')).toThrow(
      /clientIp: .*got "framwork"; did you mean "framework"\?$/,
    );
  });
});

describe('parseOptions for options that hold a secret', () => {
  const SECRET = 'sk_9f8e7d6c5b4a3210fedcba98';
  const secretive = holdsSecrets(
    z.strictObject({
      apiSecret: z.string(),
      lockTtlMs: z.optional(z.number()),
      level: z.optional(z.enum(['basic', 'advanced'])),
      nested: z.optional(z.strictObject({ depth: z.optional(z.number()) })),
    }),
  );
  const problems = (value: unknown) => {
    try {
      parseOptions(secretive, value, 'store options');
    } catch (err) {
      return (err as IpMatchConfigError).problems;
    }
    throw new Error('expected a config error');
  };

  it('names the field and what it expected, never the value it got', () => {
    expect(problems({ apiSecret: SECRET, lockTtlMs: SECRET })).toEqual([
      'lockTtlMs: expected number, received string',
    ]);
    expect(problems({ apiSecret: 12345678901234 })).toEqual(['apiSecret: expected string, received number']);
    expect(problems({ apiSecret: 'x', level: SECRET })).toEqual([
      'level: Invalid option: expected one of "basic"|"advanced", got a string (value not shown)',
    ]);
    expect(problems(SECRET)).toEqual(['(options): expected object, received string']);
  });

  it('keeps the did-you-mean of a typo, for names and for values', () => {
    expect(problems({ apiSecret: 'x', level: 'advnced', lockTtl: 5 })).toEqual([
      'level: Invalid option: expected one of "basic"|"advanced", got a string (value not shown); did you mean "advanced"?',
      'lockTtl: unknown option; did you mean "lockTtlMs"? (known: apiSecret, lockTtlMs, level, nested)',
    ]);
  });

  it('names an unknown key only when it looks like an option name', () => {
    expect(problems({ apiSecret: 'x', [SECRET]: 1, timeout: SECRET, nested: { [SECRET]: 2 } })).toEqual([
      'nested.(a key not shown): unknown option (known: depth)',
      '(a key not shown): unknown option (known: apiSecret, lockTtlMs, level, nested)',
      'timeout: unknown option (known: apiSecret, lockTtlMs, level, nested)',
    ]);
  });

  it('hides values inside a nested object that holds a secret, and only there', () => {
    const outer = z.strictObject({
      name: z.optional(z.number()),
      store: z.optional(holdsSecrets(z.strictObject({ keySecret: z.optional(z.number()) }))),
    });
    try {
      parseOptions(outer, { name: 'shown', store: { keySecret: SECRET } }, 'options');
      expect.unreachable();
    } catch (err) {
      expect((err as IpMatchConfigError).problems).toEqual([
        'name: expected number, received string, got "shown"',
        'store.keySecret: expected number, received string',
      ]);
    }
  });
});
