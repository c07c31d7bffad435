import { describe, expect, it } from 'vitest';
import {
  parseCidr,
  parseCidrLines,
  parseGeofeed,
  parseIcloudRelay,
  parseTorExits,
} from '../../../src/data/feeds/index.js';

const r = (text: string, country?: string) => parseCidr(text, country)!;

describe('RFC 8805 geofeeds (DigitalOcean, Linode, Vultr)', () => {
  it('reads prefix and country, skipping # comments and blank lines', () => {
    const feed = [
      '# Linode geofeed, RFC 8805',
      '# prefix,country,region,city,postal',
      '',
      '45.33.0.0/24,US,US-CA,Fremont,',
      '2600:3c00::/32,US,US-TX,Richardson,',
      '139.162.0.0/21,DE,DE-HE,Frankfurt,60313',
      '103.3.60.0/22,,,,',
    ].join('\n');
    expect(parseGeofeed(feed)).toEqual({
      ranges: [
        r('45.33.0.0/24', 'US'),
        r('2600:3c00::/32', 'US'),
        r('139.162.0.0/21', 'DE'),
        r('103.3.60.0/22'),
      ],
      skipped: 0,
      version: null,
    });
  });

  it('counts a line whose prefix does not parse, and keeps going (CRLF too)', () => {
    expect(
      parseGeofeed('not-a-prefix,US,,,\r\n192.0.2.0/33,US,,,\r\n64.225.0.0/20,NL,NL-NH,Amsterdam,\r\n'),
    ).toEqual({
      ranges: [r('64.225.0.0/20', 'NL')],
      skipped: 2,
      version: null,
    });
  });
});

describe("Apple's iCloud Private Relay egress-ip-ranges.csv", () => {
  it('keeps the prefix and country of `prefix,country,region,city,` rows with the trailing empty column', () => {
    const csv =
      '172.224.226.0/27,GB,GB-EN,London,\n2a02:26f7:b3c0:4000::/64,DE,DE-BE,Berlin,\n104.28.0.17/32,US,US-NY,,\n';
    expect(parseIcloudRelay(csv)).toEqual({
      ranges: [r('172.224.226.0/27', 'GB'), r('2a02:26f7:b3c0:4000::/64', 'DE'), r('104.28.0.17/32', 'US')],
      skipped: 0,
      version: null,
    });
  });

  it('keeps a row with a malformed country as a relay range without a country', () => {
    expect(parseIcloudRelay('172.224.226.32/27,United Kingdom,,,\n').ranges).toEqual([
      r('172.224.226.32/27'),
    ]);
  });
});

describe('the Tor bulk exit list', () => {
  it('reads IPv4 and IPv6 exit addresses, one a line', () => {
    const list = '185.220.101.1\n2a0b:f4c2::1\n104.244.72.115\n2001:67c:289c:2::31\n';
    expect(parseTorExits(list)).toEqual({
      ranges: [r('185.220.101.1'), r('2a0b:f4c2::1'), r('104.244.72.115'), r('2001:67c:289c:2::31')],
      skipped: 0,
      version: null,
    });
  });

  it('skips a CIDR or an ExitAddress record: the list names addresses, not networks', () => {
    expect(parseTorExits('185.220.101.0/24\nExitAddress 185.220.101.2 2026-08-22 10:00:00\n').skipped).toBe(
      2,
    );
  });
});

describe('VPN endpoint lists (plain CIDR or address lines)', () => {
  it('reads addresses and CIDRs with trailing comments', () => {
    const list = '# mullvad relays\n185.65.134.66\n193.32.249.0/24 # se-mma\n2a03:1b20:1:f011::a01f\n';
    expect(parseCidrLines(list)).toEqual({
      ranges: [r('185.65.134.66'), r('193.32.249.0/24'), r('2a03:1b20:1:f011::a01f')],
      skipped: 0,
      version: null,
    });
  });

  it('refuses octal-looking or shorthand IPv4 and zone ids', () => {
    expect(parseCidrLines('010.1.1.1\n10.1\nfe80::1%eth0\n').skipped).toBe(3);
  });
});
