import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAsnTable, parseCidr, parseHostingAsnList } from '../../../src/data/feeds/index.js';

const r = (text: string, network: string) => ({ ...parseCidr(text)!, network });

describe('the curated hosting-ASN list', () => {
  it('reads `AS<number> <network>` lines with their comments, and names every malformed or repeated line', () => {
    const list = parseHostingAsnList(
      '# hosting\nAS24940 hetzner # Hetzner Online GmbH\nAS16276  ovh  # OVH SAS\n24940 hetzner\nAS24940 hetzner\n',
    );
    expect([...list.networks]).toEqual([
      [24940, 'hetzner'],
      [16276, 'ovh'],
    ]);
    expect(list.problems).toEqual([
      'line 4: expected "AS<number> <network>"',
      'line 5: AS24940 is listed twice',
    ]);
  });

  it('the committed list parses cleanly and names no consumer ISP or mobile carrier', () => {
    const list = parseHostingAsnList(
      readFileSync(new URL('../../../data/hosting-asns.txt', import.meta.url), 'utf8'),
    );
    expect(list.problems).toEqual([]);
    expect(list.networks.size).toBeGreaterThan(40);
    // Verizon, AT&T, NTT OCN, China Unicom, MTN Nigeria, Comcast, Deutsche Telekom, BT, Orange, Jio, Vodafone DE
    for (const consumer of [701, 7018, 4713, 4837, 29465, 7922, 3320, 2856, 3215, 55836, 3209]) {
      expect(list.networks.has(consumer), `AS${consumer}`).toBe(false);
    }
  });
});

describe('IP→ASN tables', () => {
  const networks = new Map([
    [24940, 'hetzner'],
    [16276, 'ovh'],
  ]);

  it("reads ip-location-db's asn CSV (quoted names) for the listed ASNs only", () => {
    const csv = [
      '5.9.0.0,5.9.255.255,24940,Hetzner Online GmbH',
      '5.10.0.0,5.10.255.255,3320,Deutsche Telekom AG',
      '51.68.0.0,51.68.255.255,16276,"OVH, SAS"',
      '2a01:4f8::,2a01:4f8:ffff:ffff:ffff:ffff:ffff:ffff,24940,Hetzner Online GmbH',
    ].join('\n');
    expect(parseAsnTable(csv, networks)).toEqual({
      ranges: [r('5.9.0.0/16', 'hetzner'), r('51.68.0.0/16', 'ovh'), r('2a01:4f8::/32', 'hetzner')],
      skipped: 0,
      version: null,
    });
  });

  it("reads iptoasn.com's TSV, and skips a listed row that is malformed or wider than a /8", () => {
    const tsv =
      '5.9.0.0\t5.9.255.255\t24940\tDE\tHETZNER-AS\n1.0.0.0\t2.255.255.255\t16276\tFR\tOVH\n5.9.0.0\tnope\t24940\tDE\tX\n';
    expect(parseAsnTable(tsv, networks)).toEqual({
      ranges: [r('5.9.0.0/16', 'hetzner')],
      skipped: 2,
      version: null,
    });
  });
});
