import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { ipv4Value, normalizeIp } from '../../src/core/ip.js';

const NONE = { address: null, public: false };

/** What ipaddr.js itself says, for the cross-checks: unicast, and for IPv6 inside 2000::/3. */
function referencePublic(address: string): boolean {
  const ip = ipaddr.parse(address);
  if (ip.range() !== 'unicast') return false;
  return ip.kind() === 'ipv4' || ((ip as ipaddr.IPv6).parts[0]! & 0xe000) === 0x2000;
}

const v4 = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

describe('normalizeIp: what is an address', () => {
  it('keeps a public IPv4 as it came, trimmed', () => {
    expect(normalizeIp('8.8.8.8')).toEqual({ address: '8.8.8.8', public: true });
    expect(normalizeIp(' 81.2.69.160\n')).toEqual({ address: '81.2.69.160', public: true });
  });

  it.each([
    ['01.2.3.4', 'octal-looking octet'],
    ['0x8.8.8.8', 'hex octet'],
    ['8.8.8', 'three-part shorthand'],
    ['134744072', 'one 32-bit number'],
    ['256.1.1.1', 'octet over 255'],
    ['8.8.8.8.', 'trailing dot'],
    ['8..8.8', 'empty octet'],
    ['8.8.8.8/32', 'CIDR'],
    ['8.8.8.8:443', 'port'],
    ['8.8.8.8, 1.1.1.1', 'a forwarded-for list'],
    ['localhost', 'a host name'],
    ['', 'empty'],
    ['   ', 'blank'],
    ['1:2:3:4:5:6:7:8:9', 'nine groups'],
    ['1::2::3', 'two ::'],
    ['2001:db8::12345', 'a five-digit group'],
    ['fe80::1%eth0', 'zone id'],
    ['2a00:1450:4001::1%1', 'numeric zone id'],
    ['::ffff:010.1.1.1', 'lenient IPv4 inside IPv6'],
    ['::ffff:0x8.8.8.8', 'hex IPv4 inside IPv6'],
    ['::ffff:8.8.8', 'short IPv4 inside IPv6'],
  ])('rejects %j (%s)', (raw) => {
    expect(normalizeIp(raw)).toEqual(NONE);
  });

  it('rejects non-strings and anything over 64 characters before parsing it', () => {
    for (const raw of [undefined, null, 8, 134744072n, ['8.8.8.8'], { ip: '8.8.8.8' }, true]) {
      expect(normalizeIp(raw)).toEqual(NONE);
    }
    expect(normalizeIp(`${' '.repeat(58)}8.8.8.8`)).toEqual(NONE);
    expect(normalizeIp('8'.repeat(10_000))).toEqual(NONE);
  });

  it('writes IPv6 in RFC 5952 form', () => {
    expect(normalizeIp('2001:4860:4860:0000:0000:0000:0000:8888')).toEqual({
      address: '2001:4860:4860::8888',
      public: true,
    });
    expect(normalizeIp('2A00:1450:4001:0:0:0:0:1').address).toBe('2a00:1450:4001::1');
    expect(normalizeIp('2001:db8:0:0:1:0:0:1').address).toBe('2001:db8::1:0:0:1');
  });

  it('unwraps IPv4-mapped IPv6, as dual-stack sockets report IPv4 clients', () => {
    for (const raw of ['::ffff:8.8.8.8', '::FFFF:8.8.8.8', '::ffff:0808:0808', '0:0:0:0:0:ffff:808:808']) {
      expect(normalizeIp(raw)).toEqual({ address: '8.8.8.8', public: true });
    }
    expect(normalizeIp('::ffff:10.1.2.3')).toEqual({ address: '10.1.2.3', public: false });
    expect(normalizeIp('::ffff:127.0.0.1')).toEqual({ address: '127.0.0.1', public: false });
  });

  it('unwraps the NAT64 well-known prefix, but not the local-use one', () => {
    expect(normalizeIp('64:ff9b::8.8.8.8')).toEqual({ address: '8.8.8.8', public: true });
    expect(normalizeIp('64:ff9b::a00:1')).toEqual({ address: '10.0.0.1', public: false });
    expect(normalizeIp('64:ff9b:1::808:808')).toEqual({ address: '64:ff9b:1::808:808', public: false });
  });

  it('does not read deprecated IPv4-compatible ::a.b.c.d as IPv4-mapped', () => {
    expect(normalizeIp('::8.8.8.8')).toEqual({ address: '::808:808', public: false });
    expect(normalizeIp('::808:808')).toEqual({ address: '::808:808', public: false });
  });
});

describe('normalizeIp: what is public', () => {
  it.each([
    ['10.0.0.1', 'private 10/8'],
    ['172.16.0.1', 'private 172.16/12'],
    ['172.31.255.255', 'private 172.16/12, last'],
    ['192.168.1.1', 'private 192.168/16'],
    ['127.0.0.1', 'loopback'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.64.0.1', 'CGNAT'],
    ['100.127.255.255', 'CGNAT, last'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast (SSDP)'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'this network 0/8'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'TEST-NET-1'],
    ['198.51.100.1', 'TEST-NET-2'],
    ['203.0.113.1', 'TEST-NET-3'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking, last'],
    ['240.0.0.1', 'reserved 240/4'],
    ['192.0.0.9', 'IETF protocol assignments 192.0.0/24'],
    ['192.88.99.1', '6to4 relay anycast'],
    ['::', 'IPv6 unspecified'],
    ['::1', 'IPv6 loopback'],
    ['fe80::1', 'IPv6 link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local fd'],
    ['ff02::1', 'IPv6 multicast'],
    ['2001:db8::1', 'IPv6 documentation'],
    ['3fff::1', 'IPv6 documentation (RFC 9637)'],
    ['2002:808:808::1', '6to4'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
    ['2001:2::1', 'IPv6 benchmarking'],
    ['2001:20::1', 'ORCHIDv2'],
    ['100::1', 'discard-only'],
    ['100:0:0:1::1', 'outside 2000::/3 though ipaddr.js says unicast'],
    ['fec0::1', 'deprecated site-local'],
    ['5f00::1', 'segment routing'],
  ])('%s is not public (%s)', (raw) => {
    expect(normalizeIp(raw).public).toBe(false);
    expect(normalizeIp(raw).address).not.toBeNull();
  });

  it.each([
    '1.0.0.0',
    '9.255.255.255',
    '11.0.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '169.253.255.255',
    '169.255.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.0.1.255',
    '192.0.3.0',
    '192.167.255.255',
    '192.169.0.0',
    '198.17.255.255',
    '198.20.0.0',
    '198.51.99.255',
    '203.0.112.255',
    '223.255.255.255',
    '2a00:1450:4001::1',
    '2400:cb00::1',
    '2c0f:fb50:4003::1',
    '2001:4860:4860::8888',
  ])('%s, next to a special range, is public', (raw) => {
    expect(normalizeIp(raw)).toEqual({ address: raw, public: true });
  });

  it("agrees with ipaddr.js's IPv4 ranges at both ends of every /16, and on every /24 where ranges are /24s", () => {
    const disagreements: string[] = [];
    const check = (n: number) => {
      const address = v4(n);
      if (normalizeIp(address).public !== referencePublic(address)) disagreements.push(address);
    };
    for (let p = 0; p < 65_536; p++) {
      check(p * 65_536);
      check(p * 65_536 + 65_535);
    }
    for (const first of [192, 198, 203]) {
      for (let p = 0; p < 65_536; p++) check(first * 2 ** 24 + p * 256 + 1);
    }
    expect(disagreements).toEqual([]);
  });

  it('agrees with ipaddr.js on random IPv4 and IPv6', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => {
        expect(normalizeIp(v4(n))).toEqual({ address: v4(n), public: referencePublic(v4(n)) });
      }),
      { numRuns: 20_000 },
    );
    fc.assert(
      fc.property(fc.ipV6(), (raw) => {
        const got = normalizeIp(raw);
        expect(got.address).not.toBeNull();
        // Idempotent: the canonical form normalises to itself.
        expect(normalizeIp(got.address)).toEqual(got);
        if (got.address!.includes(':')) {
          expect(got.address).toBe(ipaddr.IPv6.parse(got.address!).toRFC5952String());
          expect(got.public).toBe(referencePublic(got.address!));
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('accepts exactly the strict dotted quads ipaddr.js accepts', () => {
    const text = fc.stringMatching(/^[0-9.x]{1,18}$/);
    fc.assert(
      fc.property(fc.oneof(text, fc.ipV4Extended(), fc.ipV4()), (raw) => {
        const strict = ipaddr.IPv4.isValidFourPartDecimal(raw);
        expect(normalizeIp(raw).address).toBe(strict ? raw : null);
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('ipv4Value', () => {
  /** ipaddr.js's number for a strict dotted quad, -1 for anything else. */
  const reference = (raw: string) =>
    ipaddr.IPv4.isValidFourPartDecimal(raw)
      ? ipaddr.IPv4.parse(raw).octets.reduce((n, octet) => n * 256 + octet, 0)
      : -1;
  const text = fc.oneof(
    fc.stringMatching(/^[0-9.x]{1,18}$/),
    fc.ipV4Extended(),
    fc.ipV4(),
    fc.ipV6(),
    fc.integer({ min: 0, max: 2 ** 32 - 1 }).map(v4),
  );

  it('is the number of exactly the strict dotted quads, whatever was normalised before', () => {
    fc.assert(
      fc.property(text, text, (before, raw) => {
        // The answer it remembers from normalizeIp never leaks to another address.
        normalizeIp(before);
        expect(ipv4Value(raw)).toBe(reference(raw));
        normalizeIp(raw);
        expect(ipv4Value(raw)).toBe(reference(raw));
      }),
      { numRuns: 5_000 },
    );
  });

  it('gives the embedded IPv4 of the mapped and NAT64 forms normalizeIp unwraps', () => {
    for (const raw of ['::ffff:81.2.69.160', '::ffff:5102:45a0', '64:ff9b::81.2.69.160']) {
      const { address } = normalizeIp(raw);
      expect(address).toBe('81.2.69.160');
      expect(ipv4Value(address!)).toBe(0x510245a0);
    }
    expect(ipv4Value('::ffff:81.2.69.160')).toBe(-1);
  });
});
