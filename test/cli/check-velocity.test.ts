import { describe, expect, it } from 'vitest';
import { ipmatch } from '../helpers/cli.js';

describe('ipmatch check: the velocity counts', { timeout: 120_000 }, () => {
  it('prints the four counts, says they are this check alone, and --json carries them as counted', async () => {
    const [plain, json, private_] = await Promise.all([
      ipmatch(['check', '+447400123456', '81.2.69.160']),
      ipmatch(['check', '+447400123456', '81.2.69.160', '--json']),
      ipmatch(['check', '+447400123456', '10.0.0.7', '--json']),
    ]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(
      /^velocity {2}ip 1, subnet 1, phoneCountries 1, prefix 1 \(counted in this run alone\)$/m,
    );
    // The lines above it are unchanged: match, action, ip, phone.
    expect(plain.stdout).toMatch(/^phone {5}\+447400123456 {2}GB {2}mobile {2}valid$/m);
    expect(JSON.parse(json.stdout).velocity).toEqual({ ip: 1, subnet: 1, phoneCountries: 1, prefix: 1 });
    // A private IP is not counted (nor its subnet), and has no country; the number's block still is.
    expect(JSON.parse(private_.stdout).velocity).toEqual({ ip: 0, subnet: 0, phoneCountries: 0, prefix: 1 });
  });
});
