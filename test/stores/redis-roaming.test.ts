import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createIpMatch, identityInsightsProvider } from 'ipmatch';
import { RedisStore } from 'ipmatch/redis';
import { startFakeVonage } from 'ipmatch/testing';
import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../helpers/logger.js';

const REDIS_URL = process.env.REDIS_URL;
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
if (!REDIS_URL && IN_CI) {
  throw new Error('REDIS_URL is not set under CI=true: the Redis tests must run in CI (.ci/run exports it)');
}

describe.skipIf(!REDIS_URL)('Identity Insights roaming facts and a real Redis', () => {
  it('leaves no roaming fact in Redis after checks, and no key material either', async () => {
    const fake = await startFakeVonage();
    const client = new Redis(REDIS_URL!);
    const prefix = `ipmatch-roaming-${randomUUID()}:`;
    const phones = ['+447400123456', '+447400123457', '+33612345678'];
    const core = createIpMatch({
      logger: memoryLogger(),
      cache: { store: new RedisStore({ client, prefix }) },
      velocity: false, // the lookup cache alone: the counters' keys are scanned in redis-velocity-privacy.test.ts
      provider: identityInsightsProvider({
        applicationId: fake.applicationId,
        privateKey: fake.privateKey,
        baseUrl: fake.url,
      }),
    });
    try {
      fake.insights(phones[0]!, { roaming: { is_roaming: true, country_codes: ['ES', 'PT'] } });
      fake.insights(phones[1]!, {
        roaming: { is_roaming: true, country_codes: ['KR'] },
        sim_swap: { is_swapped: true },
      });
      for (const phone of phones) {
        expect((await core.check({ phone, ip: '88.26.0.1' })).error).toBeUndefined();
      }
      // The store writes in the background: wait (bounded) until every lookup is there.
      let keys: string[] = [];
      for (let i = 0; i < 100 && keys.length < phones.length; i++) {
        keys = [];
        let cursor = '0';
        do {
          const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 100);
          cursor = next;
          keys.push(...batch);
        } while (cursor !== '0');
        if (keys.length < phones.length) await new Promise((r) => setTimeout(r, 10));
      }
      expect(keys).toHaveLength(phones.length);
      const values = await Promise.all(keys.map((k) => client.get(k)));
      const stored = values.join('\n');
      expect(stored).not.toMatch(/"(ES|PT|KR)"|roamingCountries/);
      expect(stored).toContain('"roaming":"withheld"');
      // The fact the sim_swapped signal is read from survives the store (signals/sim-swap reads it).
      expect(stored).toContain('"simSwap":{"swapped":true');
      for (const line of fake.privateKey.split('\n').slice(1, -2)) expect(stored).not.toContain(line);
      expect(stored + keys.join('\n')).not.toMatch(/7400123456|612345678/);
    } finally {
      await core.close();
      await client.del(...(await client.keys(`${prefix}*`)), `${prefix}none`);
      client.disconnect();
      await fake.close();
    }
  });
});
