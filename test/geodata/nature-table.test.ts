import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../src/data/feeds/range.js';
import { IpMatchDataError } from '../../src/geodata/errors.js';
import {
  compileNature,
  FEED_KIND,
  type FeedInput,
  type FeedName,
  NATURE_KINDS,
  type NatureRange,
  NatureTable,
  writeNatureTable,
} from '../../src/geodata/nature/index.js';

const BUILT = '2026-08-22T00:00:00.000Z';
const cidr = (text: string, extra: Partial<NatureRange> = {}): NatureRange => ({
  ...parseCidr(text)!,
  ...extra,
});
const table = (feeds: FeedInput[]): NatureTable =>
  new NatureTable(writeNatureTable(compileNature(feeds), BUILT));
const v4 = (n: number): string => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

describe('the compiled IP-nature table', () => {
  it('answers a relay range inside a hosting ASN range as relay first, with the country from Apple', () => {
    const t = table([
      { name: 'hosting-asn', version: null, ranges: [cidr('104.16.0.0/12', { network: 'cloudflare' })] },
      { name: 'icloud-relay', version: null, ranges: [cidr('104.28.28.0/26', { country: 'GB' })] },
    ]);
    expect(t.lookup('104.28.28.10')).toEqual({
      kinds: ['relay', 'hosting'],
      network: 'icloud-private-relay',
      country: 'GB',
    });
    expect(t.lookup('104.28.28.64')).toEqual({ kinds: ['hosting'], network: 'cloudflare', country: null });
    expect(t.lookup('104.15.255.255')).toBeNull();
  });

  it('names the first match in precedence order and keeps every kind (a VPN server in a datacenter)', () => {
    const t = table([
      { name: 'hosting-asn', version: null, ranges: [cidr('95.216.0.0/15', { network: 'hetzner' })] },
      { name: 'vpn', version: null, ranges: [cidr('95.216.1.1', { network: 'mullvad' })] },
      { name: 'tor', version: null, ranges: [cidr('95.216.1.1'), cidr('2a01:4f9::1')] },
    ]);
    expect(t.lookup('95.216.1.1')).toEqual({
      kinds: ['tor', 'vpn', 'hosting'],
      network: 'tor',
      country: null,
    });
    expect(t.lookup('::ffff:95.216.1.1')?.network).toBe('tor');
    expect(t.lookup('2a01:4f9:0::1')).toEqual({ kinds: ['tor'], network: 'tor', country: null });
    expect(t.lookup('2a01:4f9::2')).toBeNull();
  });

  it('records each feed in its header: kind, version, merged range count, skips', () => {
    const t = table([
      {
        name: 'aws',
        version: '1755820000 2026-08-22-00-00-00',
        skipped: 2,
        ranges: [cidr('3.0.0.0/9'), cidr('3.128.0.0/9'), cidr('2600:1f00::/24')],
      },
      { name: 'tor', version: null, ranges: [cidr('185.220.101.1')] },
    ]);
    expect(t.header.feeds).toEqual([
      { name: 'aws', kind: 'hosting', version: '1755820000 2026-08-22-00-00-00', ranges: 2, skipped: 2 },
      { name: 'tor', kind: 'tor', version: null, ranges: 1, skipped: 0 },
    ]);
    expect(t.builtAt.toISOString()).toBe(BUILT);
  });

  it('gives each feed its ranges back, merged, with network and country (what a failed feed keeps)', () => {
    const t = table([
      {
        name: 'icloud-relay',
        version: null,
        ranges: [
          cidr('172.224.0.0/24', { country: 'US' }),
          cidr('172.224.1.0/24', { country: 'US' }),
          cidr('172.224.2.0/24', { country: 'FR' }),
        ],
      },
      { name: 'hosting-asn', version: null, ranges: [cidr('172.224.0.0/12', { network: 'akamai' })] },
    ]);
    const relay = t.feedRanges('icloud-relay').map((r) => [r.first, r.last, r.country]);
    expect(relay).toEqual([
      [parseCidr('172.224.0.0/23')!.first, parseCidr('172.224.0.0/23')!.last, 'US'],
      [parseCidr('172.224.2.0/24')!.first, parseCidr('172.224.2.0/24')!.last, 'FR'],
    ]);
    expect(t.feedRanges('hosting-asn')).toEqual([{ ...cidr('172.224.0.0/12'), network: 'akamai' }]);
  });

  it('agrees with a naive scan of the feeds over random ranges and addresses', () => {
    const feeds = fc.constantFrom<FeedName>('aws', 'tor', 'vpn', 'icloud-relay', 'hosting-asn');
    const range = fc
      .tuple(fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 0, max: 300 }), fc.constantFrom('US', 'DE'))
      .map(([start, len, country]) => ({
        family: 4 as const,
        first: BigInt(start),
        last: BigInt(start + len),
        country,
      }));
    const input = fc.array(fc.record({ name: feeds, ranges: fc.array(range, { maxLength: 6 }) }), {
      maxLength: 5,
    });
    fc.assert(
      fc.property(
        input,
        fc.array(fc.integer({ min: 0, max: 4400 }), { minLength: 20, maxLength: 40 }),
        (raw, probes) => {
          const unique = raw.filter((f, i) => raw.findIndex((g) => g.name === f.name) === i);
          const t = table(unique.map((f) => ({ ...f, version: null })));
          for (const p of probes) {
            const hits = unique.filter((f) =>
              f.ranges.some((r) => r.first <= BigInt(p) && BigInt(p) <= r.last),
            );
            const got = t.lookup(v4(p));
            if (hits.length === 0) {
              expect(got).toBeNull();
              continue;
            }
            const kinds = NATURE_KINDS.filter((k) => hits.some((f) => FEED_KIND[f.name] === k));
            expect(got?.kinds).toEqual(kinds);
            const firstFeed = [...hits].sort(
              (a, b) => NATURE_KINDS.indexOf(FEED_KIND[a.name]) - NATURE_KINDS.indexOf(FEED_KIND[b.name]),
            )[0]!;
            expect(got?.network).toBe(
              firstFeed.name === 'icloud-relay' ? 'icloud-private-relay' : firstFeed.name,
            );
            if (kinds[0] === 'relay') {
              const countries = firstFeed.ranges
                .filter((r) => r.first <= BigInt(p) && BigInt(p) <= r.last)
                .map((r) => r.country);
              expect(countries).toContain(got?.country);
            } else expect(got?.country).toBeNull();
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses bytes that are not a sound table, never half-loading them', () => {
    const good = writeNatureTable(
      compileNature([{ name: 'tor', version: null, ranges: [cidr('185.220.101.1'), cidr('185.220.101.9')] }]),
      BUILT,
    );
    expect(new NatureTable(good).lookup('185.220.101.9')?.network).toBe('tor');
    const truncated = good.subarray(0, good.length - 3);
    const badMagic = Uint8Array.from(good, (b, i) => (i === 0 ? b ^ 1 : b));
    const swapped = Uint8Array.from(good);
    const end = swapped.length - 4 - 8; // the two IPv4 firsts, then their lasts, then labels (padded)
    swapped.set(good.subarray(end - 8, end - 4), end - 4);
    for (const bytes of [new Uint8Array(0), truncated, badMagic, swapped]) {
      expect(() => new NatureTable(bytes)).toThrow(IpMatchDataError);
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (junk) => {
        try {
          new NatureTable(junk);
        } catch (e) {
          expect(e).toBeInstanceOf(IpMatchDataError);
        }
      }),
    );
  });
});
