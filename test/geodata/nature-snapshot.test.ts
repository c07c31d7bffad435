import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  parseAzure,
  parseCidrLines,
  parseGcp,
  parseIcloudRelay,
  parseTorExits,
} from '../../src/data/feeds/index.js';
import {
  bundledNaturePath,
  FEED_KIND,
  type FeedName,
  type NatureRange,
  NatureTable,
} from '../../src/geodata/nature/index.js';
import { CONSUMER_IPS } from '../fixtures/consumer-ips.js';

const bytes = readFileSync(bundledNaturePath());
const table = new NatureTable(bytes);
const snapshot = (file: string): string =>
  readFileSync(new URL(`../../data/feeds-snapshot/${file}`, import.meta.url), 'utf8');
const toV4 = (v: bigint): string => [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
const toV6 = (v: bigint): string => v.toString(16).padStart(32, '0').match(/.{4}/g)!.join(':');
const relayRanges = parseIcloudRelay(snapshot('icloud-relay.csv')).ranges;
/** Up to `n` addresses spread through the ranges: each range's middle. */
function addresses(ranges: readonly NatureRange[], n: number): string[] {
  const step = Math.max(1, Math.floor(ranges.length / n));
  return ranges
    .filter((_, i) => i % step === 0)
    .map((r) => {
      const mid = r.first + (r.last - r.first) / 2n;
      return r.family === 4 ? toV4(mid) : toV6(mid);
    });
}

describe('the bundled IP-nature snapshot', () => {
  it('ships under 4 MB, and its header names every feed with its version and range count', () => {
    expect(bytes.length).toBeLessThan(4 * 1024 * 1024);
    const feeds = table.header.feeds.map((f) => f.name);
    expect(feeds).toEqual([
      'icloud-relay',
      'tor',
      'vpn',
      'aws',
      'gcp',
      'azure',
      'oracle',
      'digitalocean',
      'linode',
      'vultr',
      'hosting-asn',
    ]);
    for (const f of table.header.feeds) {
      expect(f.version, f.name).toMatch(/\d{4}-\d{2}-\d{2}$/);
      expect(f.ranges, f.name).toBeGreaterThan(50);
    }
  });

  it('flags no address of the consumer-ISP and mobile-carrier sample (35 countries)', () => {
    const flagged = CONSUMER_IPS.filter(([address]) => table.lookup(address) !== null);
    expect(CONSUMER_IPS.length).toBeGreaterThan(400);
    expect(flagged.map(([a, asn]) => `${a} (AS${asn}): ${JSON.stringify(table.lookup(a))}`)).toEqual([]);
  });

  it('flags no address that is not public, though the Vultr copy lists documentation, 6to4 and ORCHID blocks', () => {
    const listedByVultr = [
      '192.0.2.1',
      '198.51.100.7',
      '203.0.113.200',
      '2001:db8::1',
      '2002:c000:201::1',
      '2001:2::5',
    ];
    const others = [
      '10.1.2.3',
      '100.64.0.1',
      '127.0.0.1',
      '169.254.1.1',
      '192.168.0.1',
      '224.0.0.1',
      'fc00::1',
      'fe80::1',
    ];
    for (const address of [...listedByVultr, ...others]) expect(table.lookup(address), address).toBeNull();
    expect(table.header.feeds.find((f) => f.name === 'vultr')?.skipped).toBe(7);
  });

  // In-sample: addresses drawn from each feed's own copy, so this holds the compile and the lookup, not recall.
  const samples: Array<[FeedName, string[], string?]> = [
    ['icloud-relay', addresses(relayRanges, 400), 'icloud-private-relay'],
    ['tor', addresses(parseTorExits(snapshot('tor-exits.txt')).ranges, 400)],
    ['vpn', addresses(parseCidrLines(snapshot('vpn-mullvad.txt')).ranges, 200)],
    ['aws', addresses(parseCidrLines(snapshot('aws-ipv4.txt') + snapshot('aws-ipv6.txt')).ranges, 300)],
    ['gcp', addresses(parseGcp(snapshot('gcp-cloud.json')).ranges, 200)],
    ['azure', addresses(parseAzure(snapshot('azure-servicetags.json')).ranges, 300)],
    ['oracle', addresses(parseCidrLines(snapshot('oracle-ipv4.txt')).ranges, 200)],
    ['digitalocean', addresses(parseCidrLines(snapshot('digitalocean-ipv4.txt')).ranges, 100)],
    ['linode', addresses(parseCidrLines(snapshot('linode-ipv4.txt')).ranges, 100)],
    ['vultr', addresses(parseCidrLines(snapshot('vultr-ipv4.txt')).ranges, 100)],
  ];
  for (const [feed, sample, network] of samples) {
    it(`detects every sampled address of ${feed} as ${FEED_KIND[feed]}`, () => {
      const missed = sample.filter((a) => !table.lookup(a)?.kinds.includes(FEED_KIND[feed]));
      expect(missed).toEqual([]);
      if (network) for (const a of sample) expect(table.lookup(a)?.network).toBe(network);
    });
  }

  it('reads relay egress as relay first, with Apple’s country, even where a hosting ASN announces it', () => {
    const relay = relayRanges.filter((r) => r.country);
    for (const a of addresses(relay, 300)) {
      const match = table.lookup(a)!;
      expect(match.kinds[0]).toBe('relay');
      expect(match.network).toBe('icloud-private-relay');
      expect(match.country).toMatch(/^[A-Z]{2}$/);
    }
    expect(table.lookup('104.28.28.10')).toMatchObject({ network: 'icloud-private-relay', country: 'AU' });
  });

  it('names hosting ASNs by their network (Hetzner, OVH)', () => {
    expect(table.lookup('5.9.10.10')).toMatchObject({ kinds: ['hosting'], network: 'hetzner' });
    expect(table.lookup('51.68.10.10')).toMatchObject({ kinds: ['hosting'], network: 'ovh' });
  });
});
