import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run demo', () => {
  it('sends real signups and prints what was decided: a GB phone from a KR IP is blocked, a cloud IP flagged', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/demo.ts'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const row = (what: string) => out.split('\n').find((l) => l.startsWith(what)) ?? '';
    expect(row('GB phone, GB IP')).toMatch(/GB\s+GB\s+country \(country_match\)\s+-\s+allow\s+201 created/);
    expect(row('GB phone, KR IP')).toMatch(
      /KR\s+GB\s+mismatch \(country_mismatch\)\s+-\s+block\s+403 ip_phone_mismatch/,
    );
    expect(row('US phone, US IPv6')).toMatch(/US\s+US\s+country \(country_match\)\s+-\s+allow\s+201 created/);
    expect(row('GB phone, private IP')).toMatch(/unknown \(ip_not_public\)\s+-\s+allow\s+201 created/);
    // The bundled IP-nature data: a cloud IP is flagged, a Private Relay user passes, in Apple's country.
    expect(row('GB phone, AWS IP')).toMatch(
      /GB\s+GB\s+country \(country_match\)\s+hosting \(aws\)\s+flag\s+201/,
    );
    expect(row('AU phone, Private Relay')).toMatch(
      /AU\s+AU\s+country \(country_match\)\s+private_relay \(icloud-private-relay\)\s+allow\s+201 created/,
    );
    // Shown as the route answers it: rejected with a 400, not 'allow' (the policy's word for it).
    expect(row('invalid phone')).toMatch(/unknown \(phone_invalid\)\s+-\s+reject\s+400 invalid_phone/);
  });
});
