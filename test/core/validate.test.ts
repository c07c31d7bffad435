import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { IpMatchConfigError } from '../../src/core/errors.js';
import { nearest, parseOptions } from '../../src/core/validate.js';

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
});
