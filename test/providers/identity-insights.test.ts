import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { createIpMatch, IpMatchConfigError, identityInsightsProvider } from 'ipmatch';
import { startFakeVonage } from 'ipmatch/testing';
import { describe, expect, it } from 'vitest';
import { toPhoneLookup } from '../../src/providers/identity-insights-schema.js';
import { memoryLogger } from '../helpers/logger.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const RSA_PEM = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const PKCS1_PEM = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
const EC_PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
  type: 'pkcs8',
  format: 'pem',
}) as string;
/** The part of a PEM that is secret. */
const secretOf = (pem: string) => pem.split('\n').slice(1, -2).join('');
/** A Vonage application id: a UUID. */
const APP_ID = '3f1c2b7e-9a40-4d2b-8c55-1e0f6a9b7c21';

function configError(options: unknown): IpMatchConfigError {
  try {
    identityInsightsProvider(options as never);
  } catch (error) {
    if (error instanceof IpMatchConfigError) return error;
    throw error;
  }
  throw new Error('expected an IpMatchConfigError');
}

describe('identityInsightsProvider options', () => {
  it('takes the key as a string or a Buffer, PKCS#8 or PKCS#1', async () => {
    for (const privateKey of [RSA_PEM, Buffer.from(RSA_PEM), PKCS1_PEM]) {
      const provider = identityInsightsProvider({ applicationId: APP_ID, privateKey });
      expect(provider).toMatchObject({
        name: 'vonage-identity-insights',
        remote: true,
        roamingTtlMs: 300_000,
      });
      await provider.close?.();
    }
  });

  it('refuses a key that is not an RSA private key in PEM, without echoing any of it', () => {
    const garbage = `-----BEGIN PRIVATE KEY-----\n${secretOf(RSA_PEM).slice(0, 200)}\n-----END PRIVATE KEY-----\n`;
    for (const privateKey of [
      garbage,
      'not a key at all, but long enough',
      EC_PEM,
      rsa.publicKey.export({ type: 'spki', format: 'pem' }),
    ]) {
      const error = configError({ applicationId: APP_ID, privateKey });
      expect(error.message).toMatch(/privateKey: expected (the PEM text of )?an RSA private key/);
      const text = `${error.message} ${JSON.stringify(error)} ${error.stack}`;
      expect(text).not.toContain(String(privateKey).slice(28, 60));
      expect(text).not.toContain(secretOf(RSA_PEM).slice(0, 16));
    }
  });

  it('never echoes a key pasted into another option', () => {
    const error = configError({
      applicationId: APP_ID,
      privateKey: RSA_PEM,
      purpose: RSA_PEM,
      baseUrl: RSA_PEM,
    });
    expect(error.message).toMatch(/purpose|baseUrl/);
    expect(error.message).not.toContain(secretOf(RSA_PEM).slice(0, 12));
  });

  it('names each bad option, and the nearest one for a typo', () => {
    const error = configError({
      applicationId: '',
      privateKey: RSA_PEM,
      insights: { simSwap: { periodHours: 5000 }, roming: true },
      roamingTtlMs: 600_000,
      conections: 8,
    });
    expect(error.message).toMatch(/applicationId: expected your Vonage application id, a UUID/);
    expect(error.message).toMatch(/periodHours/);
    expect(error.message).toMatch(/roming.*did you mean "?roaming/);
    expect(error.message).toMatch(/roamingTtlMs/);
    expect(error.message).toMatch(/conections.*did you mean "?connections/);
  });

  it('refuses an application id that is not a UUID, and a key pasted there, without showing it', () => {
    for (const applicationId of [RSA_PEM, secretOf(RSA_PEM).slice(0, 40), 'my-app', ` ${APP_ID}x`]) {
      const error = configError({ applicationId, privateKey: RSA_PEM });
      expect(error.message).toMatch(/applicationId: expected your Vonage application id, a UUID/);
      const text = `${error.message} ${JSON.stringify(error)} ${error.stack} ${inspect(error)}`;
      expect(text).not.toContain(applicationId.trim().slice(0, 12));
      expect(text).not.toContain(secretOf(RSA_PEM).slice(0, 12));
    }
    expect(configError({ applicationId: RSA_PEM, privateKey: RSA_PEM }).message).toMatch(
      /this looks like a private key, which goes in privateKey/,
    );
    // Upper case and the spaces an env file leaves around it are fine.
    const provider = identityInsightsProvider({
      applicationId: ` ${APP_ID.toUpperCase()}\n`,
      privateKey: RSA_PEM,
    });
    void provider.close?.();
  });

  it('refuses a purpose that is not a purpose name, without showing it', () => {
    for (const purpose of [RSA_PEM, 'Fraud prevention', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc', '']) {
      const error = configError({ applicationId: APP_ID, privateKey: RSA_PEM, purpose });
      expect(error.message).toMatch(/purpose: expected one of the application's network profile purposes/);
      if (purpose.length > 0) expect(`${error.message} ${error.stack}`).not.toContain(purpose.slice(0, 12));
    }
    for (const purpose of ['FraudPreventionAndDetection', 'dpv:IdentityVerification']) {
      void identityInsightsProvider({ applicationId: APP_ID, privateKey: RSA_PEM, purpose }).close?.();
    }
  });

  it('keeps the cache scope apart for different questions', () => {
    const scope = (insights: object) =>
      identityInsightsProvider({ applicationId: APP_ID, privateKey: RSA_PEM, insights }).cacheScope;
    expect(
      new Set([
        scope({}),
        scope({ roaming: false }),
        scope({ simSwap: false }),
        scope({ simSwap: { periodHours: 24 } }),
      ]).size,
    ).toBe(4);
  });
});

describe('Identity Insights answers', () => {
  const ok = { code: 'OK' };
  const phone = { number: '+447400123456', country: 'GB', valid: true };
  it('keeps roaming countries upper-cased, once each, in order, and names the insights that failed', () => {
    const lookup = toPhoneLookup(
      {
        insights: {
          format: { country_code: 'gb', is_format_valid: true, status: ok },
          roaming: { is_roaming: true, country_codes: ['es', 'FR', 'ES', 'x1', '', 'fr', 'de'], status: ok },
          sim_swap: { status: { code: 'no_coverage' } },
        },
      },
      ['format', 'current_carrier', 'roaming', 'sim_swap'],
      phone,
    );
    expect(lookup).toEqual({
      country: 'GB',
      roamingCountry: 'ES',
      facts: {
        valid: true,
        roamingCountries: ['ES', 'FR', 'DE'],
        missingInsights: { current_carrier: 'NOT_RETURNED', sim_swap: 'NO_COVERAGE' },
      },
    });
  });
});

describe('identityInsightsProvider requests', () => {
  it('posts the number, the purpose and the insights asked, as JSON', async () => {
    const fake = await startFakeVonage();
    const purpose = 'dpv:RequestedServiceProvision';
    const core = createIpMatch({
      logger: memoryLogger(),
      provider: identityInsightsProvider({
        applicationId: fake.applicationId,
        privateKey: fake.privateKey,
        baseUrl: fake.url,
        purpose,
        insights: { roaming: false, simSwap: { periodHours: 24 } },
      }),
    });
    try {
      await core.check({ phone: '+447400123456', ip: '81.2.69.160' });
      expect(fake.requests[0]?.body).toEqual({
        phone_number: '447400123456',
        purpose,
        insights: { format: {}, current_carrier: {}, sim_swap: { period: 24 } },
      });
      expect(fake.requests[0]?.headers['content-type']).toBe('application/json');
    } finally {
      await core.close();
      await fake.close();
    }
  });
});

describe('identityInsightsProvider credentials', () => {
  it('logs the rejected application by the first group of its id only', async () => {
    const fake = await startFakeVonage();
    const logger = memoryLogger();
    const core = createIpMatch({
      logger,
      provider: identityInsightsProvider({
        applicationId: APP_ID,
        privateKey: fake.privateKey,
        baseUrl: fake.url,
      }),
    });
    try {
      const d = await core.check({ phone: '+447400123456', ip: '81.2.69.160' });
      expect(d.error?.code).toBe('http_401');
      expect(logger.lines).toEqual([
        expect.objectContaining({
          level: 'error',
          meta: { code: 'IPMATCH_VONAGE_CREDENTIALS', applicationId: `${APP_ID.slice(0, 8)}…` },
        }),
      ]);
      expect(logger.text()).not.toContain(APP_ID.slice(0, 12));
    } finally {
      await core.close();
      await fake.close();
    }
  });
});

describe('identityInsightsProvider with a Store', () => {
  it('writes no roaming fact to the store, and sees the roaming again within roamingTtlMs', async () => {
    const fake = await startFakeVonage();
    const written: string[] = [];
    const data = new Map<string, string>();
    const store = {
      get: (key: string) => data.get(key),
      set: (key: string, value: string) => {
        written.push(value);
        data.set(key, value);
      },
    };
    const core = createIpMatch({
      logger: memoryLogger(),
      cache: { store },
      provider: identityInsightsProvider({
        applicationId: fake.applicationId,
        privateKey: fake.privateKey,
        baseUrl: fake.url,
        roamingTtlMs: 100,
      }),
    });
    try {
      fake.insights('+447400123456', { roaming: { is_roaming: true, country_codes: ['ES', 'FR'] } });
      const first = await core.check({ phone: '+447400123456', ip: '88.26.0.1' });
      const again = await core.check({ phone: '+447400123456', ip: '88.26.0.1' });
      expect([first.reason, again.reason, again.cached]).toEqual(['roaming_match', 'roaming_match', true]);
      expect(written.join('\n')).not.toMatch(/ES|FR|roamingCountries/);
      expect(JSON.parse(written[0] ?? '{}')).toMatchObject({ country: 'GB', roaming: 'withheld' });
      await new Promise((r) => setTimeout(r, 150));
      const later = await core.check({ phone: '+447400123456', ip: '88.26.0.1' });
      expect(later).toMatchObject({ cached: false, reason: 'roaming_match' });
      expect(fake.calls).toBe(2);
    } finally {
      await core.close();
      await fake.close();
    }
  });
});
