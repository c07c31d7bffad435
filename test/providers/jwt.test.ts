import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { createJwtSigner, PrivateKeyError } from '../../src/providers/jwt.js';

/** Lets a test take node:crypto away, as on Workers or in a browser: the signer must fall back to Web Crypto. */
const runtime = vi.hoisted(() => ({ nodeCrypto: true }));
vi.mock('../../src/core/builtins.js', async (original) => {
  const actual = await original<typeof import('../../src/core/builtins.js')>();
  return {
    ...actual,
    builtin: ((name: string) =>
      name === 'node:crypto' && !runtime.nodeCrypto
        ? undefined
        : actual.builtin(name as never)) as typeof actual.builtin,
  };
});

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PKCS8 = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const PKCS1 = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;

function decode(token: string) {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const valid = verify(
    'sha256',
    Buffer.from(`${header}.${payload}`),
    publicKey,
    Buffer.from(signature, 'base64url'),
  );
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()),
    claims: JSON.parse(Buffer.from(payload, 'base64url').toString()),
    valid,
  };
}

describe.each([
  ['node:crypto', true],
  ['Web Crypto', false],
])('createJwtSigner with %s', (_name, nodeCrypto) => {
  it('signs RS256 tokens with Vonage claims, and re-uses one until a minute before it expires', async () => {
    runtime.nodeCrypto = nodeCrypto;
    let now = Date.UTC(2026, 10, 30, 21, 0, 0);
    const signer = createJwtSigner({ applicationId: 'app-1', privateKey: PKCS8, now: () => now });
    const first = await signer.token();
    const { header, claims, valid } = decode(first);
    expect(valid).toBe(true);
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(claims).toEqual({
      application_id: 'app-1',
      iat: now / 1000,
      exp: now / 1000 + 900,
      jti: expect.any(String),
    });
    now += 839_000;
    expect(await signer.token()).toBe(first);
    expect(signer.signatures).toBe(1);
    now += 1000;
    const second = await signer.token();
    expect(second).not.toBe(first);
    expect(decode(second).claims.jti).not.toBe(claims.jti);
    expect(signer.signatures).toBe(2);
  });

  it('signs once for a burst of concurrent requests', async () => {
    runtime.nodeCrypto = nodeCrypto;
    const signer = createJwtSigner({ applicationId: 'app-1', privateKey: PKCS8 });
    const tokens = await Promise.all(Array.from({ length: 50 }, () => signer.token()));
    expect(new Set(tokens).size).toBe(1);
    expect(signer.signatures).toBe(1);
  });

  it('refuses what is not an RSA private key, without quoting it', () => {
    runtime.nodeCrypto = nodeCrypto;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    const bad = [
      'nonsense',
      '-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----',
      ...(nodeCrypto ? [ec] : []),
    ];
    for (const pem of bad) {
      let error: unknown;
      try {
        createJwtSigner({ applicationId: 'a', privateKey: pem });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(PrivateKeyError);
      expect(String(error)).not.toContain(pem.split('\n')[1] ?? pem);
    }
  });
});

it('takes a PKCS#1 key on Node, and says how to convert it where only Web Crypto is there', async () => {
  runtime.nodeCrypto = true;
  expect(decode(await createJwtSigner({ applicationId: 'a', privateKey: PKCS1 }).token()).valid).toBe(true);
  runtime.nodeCrypto = false;
  expect(() => createJwtSigner({ applicationId: 'a', privateKey: PKCS1 })).toThrow(/openssl pkcs8 -topk8/);
  runtime.nodeCrypto = true;
});
