import { createIpMatch, decisionLog, localProvider, vonageProvider } from 'ipmatch';
import { ipMatch } from 'ipmatch/express';
import { RedisStore } from 'ipmatch/redis';
import { afterAll, expect, test } from 'vitest';
import { recorder } from '../helpers/adapter-suite.js';

// The types say every option accepts `undefined` (options-accept-undefined.test.ts); here is what it means at
// run time: an option set to undefined, as `process.env.X` is when unset, is the option left out.
const unset = process.env.IPMATCH_TEST_UNSET_VARIABLE;

const closing: { close(): Promise<void> }[] = [];
afterAll(() => Promise.all(closing.map((c) => c.close())));

test('options set to undefined build as if left out, and decide as the defaults do', async () => {
  const provider = localProvider({
    database: unset,
    maxAgeDays: undefined,
    reload: undefined,
    autoUpdate: undefined,
    ipCacheSize: undefined,
    phoneCacheSize: undefined,
  });
  const core = createIpMatch({
    provider,
    policy: undefined,
    mode: undefined,
    timeoutMs: undefined,
    cache: undefined,
    defaultCountry: unset,
    logger: recorder().logger,
    onDecision: undefined,
  });
  closing.push(core);
  expect(await core.check({ phone: '+447400123456', ip: '211.234.0.1', country: unset })).toMatchObject({
    action: 'block',
    reason: 'country_mismatch',
  });
  const remote = vonageProvider({ apiKey: 'key', apiSecret: 'secret', level: undefined, baseUrl: unset });
  closing.push({ close: async () => remote.close?.() });
  expect(remote.name).toBe('vonage');
  const store = new RedisStore({
    sendCommand: async () => null,
    prefix: undefined,
    keySecret: unset,
    lockTtlMs: undefined,
  });
  expect(store).toBeInstanceOf(RedisStore);
  expect(typeof decisionLog({ destination: { info() {} }, keySecret: unset, ipPrefix: undefined })).toBe(
    'function',
  );
  const route = ipMatch({
    logger: recorder().logger,
    phone: undefined,
    country: unset,
    clientIp: undefined,
    name: undefined,
    onInvalidPhone: undefined,
  });
  expect(route.name).toBe('ipMatchMiddleware');
});
