import express, { type Request } from 'express';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { expressIp } from '../../src/adapters/shared/express-ip.js';

/** A request of `app` as Express 5 makes it (its prototype is `app.request`), with a peer and a header. */
function requestOf(app: express.Express, peer: string | undefined, xff: string | undefined): Request {
  const req = Object.create(app.request) as Request;
  Object.assign(req, {
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
    socket: { remoteAddress: peer },
  });
  return req;
}

const appWith = (setting: unknown) => {
  const app = express();
  app.set('trust proxy', setting);
  return app;
};

const ADDRESSES = [
  '127.0.0.1',
  '127.0.0.2',
  '::1',
  '::ffff:127.0.0.1',
  '10.0.0.1',
  '10.1.2.3',
  '192.168.1.1',
  '81.2.69.160',
  '211.234.0.1',
  '2001:db8::1',
  'unknown',
  '211.234.0.1:4711',
  '',
];
const SETTINGS: unknown[] = [
  'loopback',
  'loopback, 10.0.0.0/8',
  ['uniquelocal', '127.0.0.1'],
  '10.0.0.1',
  1,
  2,
  true,
];

const header = fc
  .array(fc.tuple(fc.constantFrom(...ADDRESSES), fc.constantFrom(',', ', ', ' , ', ',,', ' ')), {
    maxLength: 5,
  })
  .map((parts) => parts.map(([a, sep]) => a + sep).join(''));

describe('expressIp', () => {
  test("answers req.ip for every trust setting, peer and X-Forwarded-For, on one app's remembered trust", () => {
    const apps = SETTINGS.map(appWith);
    fc.assert(
      fc.property(
        fc.nat(apps.length - 1),
        fc.constantFrom(...ADDRESSES, undefined),
        fc.option(header, { nil: undefined }),
        (which, peer, xff) => {
          const app = apps[which]!;
          const req = requestOf(app, peer, xff);
          // Twice: the second answer comes from the remembered trust.
          expect(expressIp(req, app)).toBe(req.ip);
          expect(expressIp(req, app)).toBe(req.ip);
        },
      ),
      { numRuns: 3000 },
    );
  });

  test("calls the app's own trust function with the hops proxy-addr passes it, in the same order", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ADDRESSES), header, fc.nat(4), (peer, xff, trustedHops) => {
        const seen: string[] = [];
        const app = appWith((address: string, hop: number) => {
          seen.push(`${hop}:${address}`);
          return hop < trustedHops;
        });
        const req = requestOf(app, peer, xff);
        const expected = req.ip;
        const byExpress = seen.splice(0);
        expect(expressIp(req, app)).toBe(expected);
        expect(seen).toEqual(byExpress);
      }),
    );
  });

  test("follows a later app.set('trust proxy'): what it remembered belongs to the setting it was asked under", () => {
    const app = appWith('loopback');
    const req = requestOf(app, '127.0.0.1', '81.2.69.160');
    expect(expressIp(req, app)).toBe('81.2.69.160');
    app.set('trust proxy', '10.0.0.0/8');
    expect(expressIp(req, app)).toBe('127.0.0.1');
    expect(req.ip).toBe('127.0.0.1');
  });
});
