import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, test, vi } from 'vitest';
import { fromForwardedFor, walkForwardedFor } from '../../src/adapters/shared/forwarded-for.js';
import { compileTrustedProxies } from '../../src/adapters/shared/proxies.js';
import { normalizeIp } from '../../src/core/ip.js';

// Express's own walk, as the oracle: ipmatch must pick the address Express's req.ip picks with the same trust.
const proxyAddr = createRequire(import.meta.url)('proxy-addr') as {
  (req: object, trust: string[]): string;
  compile(trust: string[]): (addr: string, i: number) => boolean;
};
const viaProxyAddr = (peer: string, xff: string | undefined, trust: string[]) =>
  proxyAddr(
    { headers: xff === undefined ? {} : { 'x-forwarded-for': xff }, socket: { remoteAddress: peer } },
    trust,
  );

const LB = ['10.0.0.0/8'];
const trusted = compileTrustedProxies(LB);
const walk = (peer: string | undefined, xff?: string | string[]) => walkForwardedFor(peer, xff, trusted);

describe('walkForwardedFor', () => {
  test.each<[string, string | undefined, string | string[] | undefined, string | undefined]>([
    ['an untrusted peer is the client, whatever it sends', '203.0.113.9', '81.2.69.160', '203.0.113.9'],
    ['a trusted peer without the header is the client', '10.0.0.1', undefined, '10.0.0.1'],
    [
      'one appending proxy: its entry, not the forged left-most',
      '10.0.0.1',
      '81.2.69.160, 211.234.0.1',
      '211.234.0.1',
    ],
    [
      'two proxies: the first untrusted hop from the right',
      '10.0.0.1',
      '81.2.69.160, 211.234.0.1, 10.0.0.2',
      '211.234.0.1',
    ],
    ['every hop trusted: the left-most', '10.0.0.1', '10.0.0.3, 10.0.0.2', '10.0.0.3'],
    [
      'several headers are one list, in order',
      '10.0.0.1',
      ['81.2.69.160', '211.234.0.1, 10.0.0.2'],
      '211.234.0.1',
    ],
    [
      'IPv6 and IPv4-mapped hops',
      '::ffff:10.0.0.1',
      '81.2.69.160, 2001:db8::1, ::ffff:10.0.0.2',
      '2001:db8::1',
    ],
    ['a malformed entry where the walk reaches it: no client', '10.0.0.1', '81.2.69.160, unknown', undefined],
    ['an entry with a port: no client', '10.0.0.1', '211.234.0.1:4711', undefined],
    [
      'empty entries are skipped, as proxy-addr skips them',
      '10.0.0.1',
      '81.2.69.160,, 10.0.0.2,',
      '81.2.69.160',
    ],
    ['only empty entries: the peer', '10.0.0.1', ' , ', '10.0.0.1'],
    // These looped for ever: lastIndexOf(',', -1) finds a leading comma again and again (a one-header DoS).
    ['a lone comma: the peer', '10.0.0.1', ',', '10.0.0.1'],
    ['a leading comma before trusted hops: the left-most hop', '10.0.0.1', ',10.0.0.2', '10.0.0.2'],
    ['leading commas before a client', '10.0.0.1', ',,211.234.0.1,10.0.0.2', '211.234.0.1'],
    ['a malformed entry left of the client is never read', '10.0.0.1', 'garbage, 211.234.0.1', '211.234.0.1'],
    ['a hex or octal entry is not a trusted hop', '10.0.0.1', '81.2.69.160, 0xa.0.0.1', undefined],
    ['no peer (no socket): no client', undefined, '81.2.69.160', undefined],
  ])('%s', (_, peer, xff, client) => {
    expect(walk(peer, xff)).toBe(client);
  });

  const hop = fc.oneof(
    fc.ipV4(),
    fc.ipV6(),
    fc.constantFrom('10.0.0.2', '10.9.8.7', '::ffff:10.1.1.1', '127.0.0.1', 'unknown', '', '1.2.3.4:80'),
  );

  test('picks what proxy-addr (Express req.ip) picks; where that is not an address, no client', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('10.0.0.1', '203.0.113.9', '::ffff:10.0.0.1'),
        fc.array(hop, { maxLength: 8 }),
        (peer, hops) => {
          const xff = hops.length === 0 ? undefined : hops.join(', ');
          const expected = viaProxyAddr(peer, xff, LB);
          expect(walk(peer, xff)).toBe(normalizeIp(expected).address === null ? undefined : expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('ends on any list of commas, spaces and trusted hops, and agrees with proxy-addr there', () => {
    const piece = fc.constantFrom('', ' ', '10.0.0.2', '10.9.8.7', '211.234.0.1');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 10 }), fc.constantFrom(',', ', ', ' ,'), (pieces, sep) => {
        const xff = pieces.join(sep);
        const expected = viaProxyAddr('10.0.0.1', xff, LB);
        expect(walk('10.0.0.1', xff)).toBe(normalizeIp(expected).address === null ? undefined : expected);
      }),
      { numRuns: 1000 },
    );
  });

  test('a forged entry left of the proxy-appended one is never the client', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()), { maxLength: 6 }), (forged) => {
        const xff = [...forged, '211.234.0.1', '10.0.0.2'].join(', ');
        expect(walk('10.0.0.1', xff)).toBe('211.234.0.1');
      }),
      { numRuns: 300 },
    );
  });
});

describe('fromForwardedFor', () => {
  const raw = (r: { peer?: string; headers: Record<string, string> }) => ({
    headers: r.headers,
    socket: r.peer === undefined ? null : { remoteAddress: r.peer },
  });

  test('a header from an untrusted peer is ignored, with one warning', () => {
    const warn = vi.fn();
    const get = fromForwardedFor(raw, trusted, warn, 'ADVICE');
    expect(get({ peer: '203.0.113.9', headers: { 'x-forwarded-for': '81.2.69.160' } })).toBe('203.0.113.9');
    expect(get({ peer: '203.0.113.9', headers: { 'x-forwarded-for': '81.2.69.160' } })).toBe('203.0.113.9');
    expect(warn.mock.calls.map(([code]) => code)).toEqual(['IPMATCH_XFF_UNTRUSTED']);
  });

  test('a request with no peer has no client, with one warning that gives the advice', () => {
    const warn = vi.fn();
    const get = fromForwardedFor(raw, trusted, warn, 'ADVICE');
    expect(get({ headers: { 'x-forwarded-for': '81.2.69.160' } })).toBeUndefined();
    get({ headers: {} });
    expect(warn.mock.calls.map(([code]) => code)).toEqual(['IPMATCH_NO_PEER']);
    expect(warn.mock.calls[0]?.[1]).toContain('ADVICE');
  });

  test('other client-IP headers play no part', () => {
    const warn = vi.fn();
    const get = fromForwardedFor(raw, trusted, warn, 'ADVICE');
    const forged = {
      'x-client-ip': '81.2.69.160',
      'x-real-ip': '81.2.69.160',
      'true-client-ip': '81.2.69.160',
    };
    expect(get({ peer: '10.0.0.1', headers: { ...forged, 'cf-connecting-ip': '81.2.69.160' } })).toBe(
      '10.0.0.1',
    );
    expect(get({ peer: '10.0.0.1', headers: { ...forged, 'x-forwarded-for': '211.234.0.1' } })).toBe(
      '211.234.0.1',
    );
    expect(warn).not.toHaveBeenCalled();
  });
});
