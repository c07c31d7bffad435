import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { createIpMatch } from 'ipmatch';
import { RedisStore } from 'ipmatch/redis';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The property of issue 23: after real checks through a core counting velocity in Redis (every counter, the
 * conversion ones included), no number, number block or IP is anywhere in Redis in clear. The real Redis is
 * scanned: every key under the prefix is a sorted set named by a hash, whose members are hashes and whose
 * scores are times.
 */
const REDIS_URL = process.env.REDIS_URL;
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
if (!REDIS_URL && IN_CI)
  throw new Error('REDIS_URL is not set under CI=true: the Redis privacy property must run.');

const SECRET = 'privacy-test-secret-0123456789abcdef';

/** Mobile numbers of a few plans, X the random digits: valid numbers, and so counted. */
const phone = fc
  .tuple(
    fc.constantFrom(
      '+447400XXXXXX',
      '+3361234XXXX',
      '+4915123XXXXXX',
      '+919876XXXXXX',
      '+5511987XXXXXX',
      '+8190123XXXXX',
      '+1415867XXXX',
    ),
    fc.integer({ min: 0, max: 999_999 }),
  )
  .map(([template, n]) => {
    const x = template.split('X').length - 1;
    const digits = String(n).padStart(x, '0').slice(-x);
    return template.slice(0, -x) + digits;
  });
const ip = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('81.2.69.160', '2a02:c7c:1234:5678::1'));
const signups = fc.array(fc.record({ phone, ip, verified: fc.boolean() }), { minLength: 1, maxLength: 12 });

/** Every way a number, its block (without its last 3 digits) or an IP could be written in clear. */
function spellings(e164: string, address: string): string[] {
  const out = [e164, e164.slice(1), e164.slice(0, -3), e164.slice(1, -3), address];
  const parsed = parsePhoneNumberFromString(e164);
  if (parsed) out.push(parsed.nationalNumber, parsed.nationalNumber.slice(0, -3));
  if (address.includes('.')) out.push(address.slice(0, address.lastIndexOf('.') + 1));
  else out.push(address.split(':').slice(0, 3).join(':'));
  // Digits alone are compared only when long enough never to turn up in a hex digest by chance.
  return out.filter((s) => /[^0-9]/.test(s) || s.length >= 10);
}

/** Every key under `prefix`, by SCAN (bounded), as an operator would list them. */
async function scan(admin: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  for (let round = 0; round < 10_000; round++) {
    const [next, found] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    keys.push(...found);
    cursor = next;
    if (cursor === '0') break;
  }
  return keys;
}

describe.skipIf(!REDIS_URL).each([
  ['with keySecret', SECRET, 64],
  ['without keySecret', undefined, 32],
] as const)('velocity in Redis %s holds no number, block or IP in clear', (_name, keySecret, hexLength) => {
  let admin: Redis;
  let client: Redis;
  const prefixes: string[] = [];

  beforeAll(async () => {
    admin = new Redis(REDIS_URL!);
    client = new Redis(REDIS_URL!, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    await new Promise((resolve) => client.once('ready', resolve));
  });
  afterAll(async () => {
    for (const prefix of prefixes) {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
    }
    admin.disconnect();
    client.disconnect();
  });

  it('after any run of checks and verifications', async () => {
    let countedRuns = 0;
    await fc.assert(
      fc.asyncProperty(signups, async (runs) => {
        const prefix = `ipmatch-privacy-test:${randomUUID()}:`;
        prefixes.push(prefix);
        const store = new RedisStore({ client, prefix, keySecret });
        const core = createIpMatch({
          logger: { warn() {}, error() {} },
          mode: 'observe',
          sendsOtp: true,
          velocity: { store, timeoutMs: 2000 },
        });
        const forbidden = new Set<string>();
        for (const s of runs) {
          const decision = await core.check({ phone: s.phone, ip: s.ip });
          if (s.verified) await core.verified(s.phone);
          expect(decision.signals).not.toContain('velocity_unavailable');
          if (decision.phone.number) for (const w of spellings(decision.phone.number, s.ip)) forbidden.add(w);
        }
        await core.close();

        const keys = await scan(admin, prefix);
        if (keys.length > 0) {
          countedRuns++;
          expect(forbidden.size).toBeGreaterThan(0);
        }
        for (const key of keys) {
          expect(key.slice(prefix.length)).toMatch(new RegExp(`^[0-9a-f]{${hexLength}}$`));
          expect(await admin.type(key)).toBe('zset');
          const entries = await admin.zrange(key, 0, -1, 'WITHSCORES');
          for (let i = 0; i < entries.length; i += 2) {
            expect(entries[i]).toMatch(new RegExp(`^[0-9a-f]{${hexLength}}$`));
            expect(entries[i + 1]).toMatch(/^\d{13}$/);
          }
          const text = `${key}\n${entries.join('\n')}`;
          for (const clear of forbidden) expect(text).not.toContain(clear);
        }
      }),
      { numRuns: 25 },
    );
    // The property said something: most runs counted at least one valid number.
    expect(countedRuns).toBeGreaterThan(10);
  }, 60_000);
});
