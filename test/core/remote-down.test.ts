import { createIpMatch, IpMatchConfigError, type MatchResult, ProviderError } from 'ipmatch';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../helpers/logger.js';
import { stubRemoteProvider } from '../helpers/stub-provider.js';

const GB_PHONE = '+447400123456';
const GB_IP = '81.2.69.160';
const KR_IP = '211.234.0.1';

const cores: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of cores.splice(0)) await c.close();
});
function core(options: Parameters<typeof createIpMatch>[0]) {
  const c = createIpMatch({ logger: memoryLogger(), ...options });
  cores.push(c);
  return c;
}

describe('remoteDown', () => {
  it('is validated when the core is built, with a did-you-mean for the value and the name', () => {
    const problems = (options: object) => {
      try {
        createIpMatch(options as never);
      } catch (error) {
        if (error instanceof IpMatchConfigError) return error.message;
      }
      throw new Error('expected an IpMatchConfigError');
    };
    expect(problems({ remoteDown: 'ofline' })).toMatch(
      /remoteDown: Invalid option: expected one of "offline"\|"error", got "ofline"; did you mean "offline"\?/,
    );
    expect(problems({ remotedown: 'error' })).toMatch(
      /remotedown: unknown option; did you mean "remoteDown"\?/,
    );
  });

  it('degrades a custom remote provider that is down, but not one that throws something else', async () => {
    const down = stubRemoteProvider(() => new ProviderError('upstream_error', 'down for maintenance'));
    expect(await core({ provider: down }).check({ phone: GB_PHONE, ip: KR_IP })).toMatchObject({
      action: 'block',
      reason: 'country_mismatch',
      degraded: true,
      provider: 'local',
      error: { code: 'upstream_error', message: 'down for maintenance' },
    });
    const refused = stubRemoteProvider(
      () => new ProviderError('forbidden', 'not this one', { upstream: false }),
    );
    const bug = stubRemoteProvider(() => new TypeError('x is undefined'));
    for (const provider of [refused, bug]) {
      const d = await core({ provider }).check({ phone: GB_PHONE, ip: KR_IP });
      expect(d).toMatchObject({ action: 'allow', reason: 'lookup_failed', provider: 'stub' });
      expect(d.degraded).toBeUndefined();
    }
  });

  it('degrades a lookup cut by the time budget, even one that ignores its signal', async () => {
    const hung = stubRemoteProvider(() => ({ country: 'GB', roamingCountry: null }), {
      delayMs: 10_000,
      ignoreAbort: true,
    });
    expect(await core({ provider: hung, timeoutMs: 50 }).check({ phone: GB_PHONE, ip: GB_IP })).toMatchObject(
      {
        action: 'allow',
        reason: 'country_match',
        degraded: true,
        error: { code: 'timeout' },
      },
    );
  });

  it('hands a policy function the degraded result, error and all', async () => {
    const seen: MatchResult[] = [];
    const provider = stubRemoteProvider(() => new ProviderError('network_error', 'reset'));
    const d = await core({
      provider,
      policy: (r) => {
        seen.push(r);
        return r.degraded ? 'flag' : 'allow';
      },
    }).check({ phone: GB_PHONE, ip: GB_IP });
    expect(d.action).toBe('flag');
    expect(seen[0]).toMatchObject({
      degraded: true,
      matchLevel: 'country',
      error: { code: 'network_error' },
    });
  });

  it('takes the more severe of the level and the error policy', async () => {
    const provider = stubRemoteProvider(() => new ProviderError('http_503', 'unavailable'));
    const check = (error: 'allow' | 'flag' | 'block', ip: string) =>
      core({ provider, policy: { error } }).check({ phone: GB_PHONE, ip });
    expect((await check('allow', GB_IP)).action).toBe('allow');
    expect((await check('flag', GB_IP)).action).toBe('flag');
    expect((await check('block', GB_IP)).action).toBe('block');
    expect((await check('allow', KR_IP)).action).toBe('block');
  });
});
