import { inspect } from 'node:util';
import fc from 'fast-check';
import {
  decisionLog,
  IpMatchConfigError,
  identityInsightsProvider,
  updateDatabase,
  vonageProvider,
} from 'ipmatch';
import { RedisStore } from 'ipmatch/redis';
import { describe, expect, it } from 'vitest';

/**
 * Every constructor whose options hold a secret: a config error about them never shows a value it was given.
 * A secret pasted into the wrong option (or into a misspelt one) reaches startup logs and error reporters
 * through the error's message, stack, JSON or inspection; none of them may hold any of it.
 */
const constructors: Record<string, (options: Record<string, unknown>) => unknown> = {
  vonageProvider: (o) => vonageProvider(o as never),
  identityInsightsProvider: (o) => identityInsightsProvider(o as never),
  RedisStore: (o) => new RedisStore(o as never),
  decisionLog: (o) => decisionLog(o as never),
  updateDatabase: (o) => updateDatabase(o as never),
};

/** The thrown (or rejected) config error of `build(options)`. */
async function configError(build: (o: Record<string, unknown>) => unknown, options: Record<string, unknown>) {
  try {
    await build(options);
  } catch (error) {
    if (error instanceof IpMatchConfigError) return error;
    throw error;
  }
  throw new Error(`expected an IpMatchConfigError for ${Object.keys(options).join(', ')}`);
}

/** Every way an error reaches a log or an error reporter. */
const everything = (error: Error) =>
  [
    error.message,
    String(error.stack),
    JSON.stringify(error),
    inspect(error, { showHidden: true, depth: 6 }),
  ].join('\n');

/** The option names a constructor knows, as its own error lists them. */
async function optionNames(build: (o: Record<string, unknown>) => unknown): Promise<string[]> {
  const error = await configError(build, { zzzzUnknownOption: true });
  const known = /\(known: ([^)]*)\)/.exec(error.message)?.[1];
  return known ? known.split(', ') : [];
}

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
/** Secrets as they come: hex and base64 keys, Vonage-style API secrets, PEM keys, tokens with a prefix. */
const secret = fc.oneof(
  bytes(16, 32).map((b) => Buffer.from(b).toString('hex')),
  bytes(24, 48).map((b) => Buffer.from(b).toString('base64')),
  bytes(12, 24).map((b) => `sk_live_${Buffer.from(b).toString('base64url')}`),
  bytes(48, 96).map(
    (b) => `-----BEGIN PRIVATE KEY-----\n${Buffer.from(b).toString('base64')}\n-----END PRIVATE KEY-----\n`,
  ),
  fc.stringMatching(/^[A-Za-z]{4,8}[0-9][A-Za-z0-9]{11,20}$/),
);
/** A key that is no option of any constructor here. */
const unknownKey = fc.stringMatching(/^[a-z][A-Za-z]{2,20}$/).filter((k) => !['now', 'env'].includes(k));

describe('a config error of options that hold a secret', () => {
  it.each(Object.keys(constructors))('%s never shows a secret put in any of its options', async (name) => {
    const build = constructors[name]!;
    const names = await optionNames(build);
    expect(names.length).toBeGreaterThan(3);
    await fc.assert(
      fc.asyncProperty(
        secret,
        unknownKey,
        fc.subarray(names),
        fc.boolean(),
        async (s, key, chosen, asKey) => {
          fc.pre(!names.includes(key));
          const options: Record<string, unknown> = { [key]: s };
          for (const option of chosen) options[option] = s;
          // A secret can even end up as a key, from an object built the wrong way round.
          if (asKey) options[s] = true;
          const text = everything(await configError(build, options));
          expect(text).not.toContain(s);
          expect(text).not.toContain(s.slice(0, 12));
          // The error still names the bad option.
          expect(text).toContain(`${key}: unknown option`);
        },
      ),
      { numRuns: 60 },
    );
  });

  it.each([
    ['RedisStore', { client: { call: async () => null }, lockTtlMs: 'SECRET' }, 'lockTtlMs: expected number'],
    ['decisionLog', { ipPrefix: 'SECRET' }, 'ipPrefix: expected boolean'],
    ['vonageProvider', { apiKey: 'k', apiSecret: 's', level: 'SECRET' }, 'level: Invalid option'],
    ['updateDatabase', { source: 'SECRET' }, 'source: Invalid option'],
  ])('%s names the option a secret was pasted into, without the secret', async (name, options, says) => {
    const s = 'Kx9-d0n0t-5h0w-m3-7f3e2a1b0c';
    const error = await configError(
      constructors[name]!,
      JSON.parse(JSON.stringify(options).replaceAll('SECRET', s)),
    );
    expect(error.message).toContain(says);
    expect(everything(error)).not.toContain(s.slice(0, 12));
  });
});
