import { describe, expect, it } from 'vitest';
import { ipmatch } from '../helpers/cli.js';

describe('ipmatch check: the number type, and --sends-otp', { timeout: 120_000 }, () => {
  it('prints phone.type and the signal it gives; --sends-otp decides as an OTP route would', async () => {
    const [plain, otp, json] = await Promise.all([
      ipmatch(['check', '+449098790000', '81.2.69.160']),
      ipmatch(['check', '+449098790000', '81.2.69.160', '--sends-otp']),
      ipmatch(['check', '+448001234567', '81.2.69.160', '--sends-otp', '--json']),
    ]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^phone {5}\+449098790000 {2}GB {2}premium_rate {2}valid$/m);
    expect(plain.stdout).toMatch(/^signals {3}premium_rate_number$/m);
    expect(plain.stdout).toMatch(/^action {4}flag$/m);
    expect(otp.stdout).toMatch(/^action {4}block$/m);
    expect(otp.stdout).toMatch(
      /^answer {4}403 premium_rate_number: Premium-rate numbers cannot be used here/m,
    );
    const decision = JSON.parse(json.stdout);
    expect(decision).toMatchObject({
      action: 'block',
      phone: { type: 'toll_free' },
      signals: ['sms_incapable_number'],
      answer: { status: 403, body: { error: 'sms_incapable_number' } },
    });
  });
});
