import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { FEED_PARSERS, type FeedResult, MIN_PREFIX, parseAsnTable } from '../../../src/data/feeds/index.js';
import { compileNature, type FeedName } from '../../../src/geodata/nature/index.js';

/** The oracle, per address: ipaddr.js's range() says 'unicast', and an IPv6 address is in 2000::/3. */
function isPublicAddress(family: 4 | 6, value: bigint): boolean {
  const width = family === 4 ? 4 : 16;
  const bytes = Array.from({ length: width }, (_, i) =>
    Number((value >> BigInt(8 * (width - 1 - i))) & 255n),
  );
  const ip = ipaddr.fromByteArray(bytes);
  if (ip.range() !== 'unicast') return false;
  return family === 4 || value >> 125n === 1n;
}

function text(family: 4 | 6, value: bigint): string {
  const width = family === 4 ? 4 : 16;
  const bytes = Array.from({ length: width }, (_, i) =>
    Number((value >> BigInt(8 * (width - 1 - i))) & 255n),
  );
  return ipaddr.fromByteArray(bytes).toString();
}

/** Starts of the blocks a feed lists by mistake: documentation, private, CGNAT, 6to4, Teredo, mapped… */
const SPECIAL = [
  '10.0.0.0',
  '100.64.0.0',
  '127.0.0.0',
  '169.254.0.0',
  '172.16.0.0',
  '192.0.0.0',
  '192.0.2.0',
  '192.88.99.0',
  '192.168.0.0',
  '198.18.0.0',
  '198.51.100.0',
  '203.0.113.0',
  '224.0.0.0',
  '240.0.0.0',
  '0.0.0.0',
  '2001:db8::',
  '2001::',
  '2002::',
  'fc00::',
  'fe80::',
  'ff00::',
  '::ffff:0:0',
  '64:ff9b::',
  '3fff::',
  '4000::',
  '::',
].map((a) => {
  const ip = ipaddr.parse(a);
  const family = ip.kind() === 'ipv4' ? 4 : 6;
  let v = 0n;
  for (const b of ip.toByteArray()) v = (v << 8n) | BigInt(b);
  return { family: family as 4 | 6, value: v };
});

/** A non-public address: near the start of a special block, or anywhere, as long as the oracle calls it so. */
const nonPublic = fc
  .oneof(
    fc
      .tuple(fc.constantFrom(...SPECIAL), fc.bigInt({ min: 0n, max: (1n << 16n) - 1n }))
      .map(([s, low]) => ({ family: s.family, value: s.value | low })),
    fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }).map((value) => ({ family: 4 as const, value })),
    fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((value) => ({ family: 6 as const, value })),
  )
  .filter((a) => !isPublicAddress(a.family, a.value));

/** The CIDR of `bits` around the address: it holds the address, so no parser may keep it. */
function around(a: { family: 4 | 6; value: bigint }, bits: number): string {
  const width = a.family === 4 ? 32 : 128;
  const host = (1n << BigInt(width - bits)) - 1n;
  return `${text(a.family, a.value & ~host)}/${bits}`;
}

/** The same prefix in every publisher's format, each parsed by its own parser. */
function everyFormat(
  prefix: string,
  address: string,
  first: string,
  last: string,
): Array<[string, FeedResult]> {
  const v6 = prefix.includes(':');
  return [
    [
      'aws',
      FEED_PARSERS.aws(
        JSON.stringify(
          v6 ? { ipv6_prefixes: [{ ipv6_prefix: prefix }] } : { prefixes: [{ ip_prefix: prefix }] },
        ),
      ),
    ],
    [
      'gcp',
      FEED_PARSERS.gcp(JSON.stringify({ prefixes: [v6 ? { ipv6Prefix: prefix } : { ipv4Prefix: prefix }] })),
    ],
    ['oracle', FEED_PARSERS.oracle(JSON.stringify({ regions: [{ cidrs: [{ cidr: prefix }] }] }))],
    [
      'azure',
      FEED_PARSERS.azure(
        JSON.stringify({ values: [{ name: 'AzureCloud', properties: { addressPrefixes: [prefix] } }] }),
      ),
    ],
    ['vultr', FEED_PARSERS.vultr(`${prefix},US,US-NJ,Piscataway,\n`)],
    ['icloud-relay', FEED_PARSERS['icloud-relay'](`${prefix},GB,GB-EN,London,\n`)],
    ['vpn', FEED_PARSERS.vpn(`${prefix}\n${address}\n`)],
    ['tor', FEED_PARSERS.tor(`${address}\n`)],
    [
      'hosting-asn',
      parseAsnTable(`${first},${last},24940,Hetzner Online GmbH\n`, new Map([[24940, 'hetzner']])),
    ],
  ];
}

describe('feeds drop ranges that are not public unicast', () => {
  it("Vultr's geofeed: its three documentation /24s are counted skips, its own range is kept", () => {
    const out = FEED_PARSERS.vultr(
      [
        '45.32.0.0/20,US,US-NJ,Piscataway,',
        '192.0.2.0/24,US,US-NJ,Piscataway,',
        '198.51.100.0/24,US,US-NJ,Piscataway,',
        '203.0.113.0/24,US,US-NJ,Piscataway,',
      ].join('\n'),
    );
    expect(out.skipped).toBe(3);
    expect(out.ranges.map((r) => text(r.family, r.first))).toEqual(['45.32.0.0']);
  });

  it('private, CGNAT, loopback, link-local, multicast, 6to4, Teredo, unique-local and mapped ranges are skipped', () => {
    const lines = [
      '10.0.0.0/8',
      '100.64.0.0/10',
      '127.0.0.1',
      '169.254.0.0/16',
      '172.16.0.0/12',
      '192.168.1.0/24',
      '224.0.0.0/8',
      '255.255.255.255',
      '0.0.0.0/8',
      '2002::/24',
      '2001::/32',
      'fc00::/24',
      'fe80::/64',
      '::ffff:0:0/96',
      '2001:db8::/32',
      '100.0.0.0/9',
      '2a01:4f8::/29',
    ];
    const out = FEED_PARSERS.vpn(lines.join('\n'));
    expect(out.skipped).toBe(lines.length - 1);
    expect(out.ranges).toHaveLength(1); // 2a01:4f8::/29 (Hetzner); 100.0.0.0/9 holds 100.64/10
    expect(
      parseAsnTable(
        '100.63.0.0,100.64.0.255,24940,X\n5.9.0.0,5.9.255.255,24940,X\n',
        new Map([[24940, 'h']]),
      ),
    ).toMatchObject({ skipped: 1, ranges: [{ first: 0x05090000n }] });
  });

  it('no compiled range ever covers a non-public address, whatever prefix around it a feed lists', () => {
    fc.assert(
      fc.property(nonPublic, fc.integer({ min: 0, max: 128 }), (addr, n) => {
        const width = addr.family === 4 ? 32 : 128;
        const bits = MIN_PREFIX[addr.family] + (n % (width - MIN_PREFIX[addr.family] + 1));
        const prefix = around(addr, bits);
        const host = (1n << BigInt(width - bits)) - 1n;
        const results = everyFormat(
          prefix,
          text(addr.family, addr.value),
          text(addr.family, addr.value & ~host),
          text(addr.family, addr.value | host),
        );
        for (const [, r] of results) expect(r.ranges.length + r.skipped).toBeGreaterThan(0);
        const compiled = compileNature(
          results.map(([name, r]) => ({
            name: name as FeedName,
            version: null,
            ranges: r.ranges,
            skipped: r.skipped,
          })),
        );
        const family = addr.family === 4 ? compiled.v4 : compiled.v6;
        family.first.forEach((first, i) => {
          expect(first <= addr.value && addr.value <= family.last[i]!).toBe(false);
        });
      }),
      { numRuns: 400 },
    );
  });

  it('every address a compiled range starts or ends at, or holds, is public', () => {
    const anyPrefix = fc
      .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.integer({ min: 0, max: 128 }))
      .map(([v4, value, n]) => {
        const family = v4 ? 4 : 6;
        const width = v4 ? 32 : 128;
        const bits = MIN_PREFIX[family] + (n % (width - MIN_PREFIX[family] + 1));
        return around({ family, value: v4 ? value & 0xffffffffn : value }, bits);
      });
    fc.assert(
      fc.property(fc.array(anyPrefix, { maxLength: 20 }), fc.bigInt({ min: 0n }), (prefixes, pick) => {
        const out = FEED_PARSERS.vpn(prefixes.join('\n'));
        expect(out.ranges.length + out.skipped).toBe(prefixes.length);
        const compiled = compileNature([{ name: 'vpn', version: null, ranges: out.ranges }]);
        for (const [family, f] of [
          [4, compiled.v4],
          [6, compiled.v6],
        ] as const) {
          f.first.forEach((first, i) => {
            const last = f.last[i]!;
            for (const a of [first, last, first + (pick % (last - first + 1n))])
              expect(isPublicAddress(family, a)).toBe(true);
          });
        }
      }),
      { numRuns: 300 },
    );
  });
});
