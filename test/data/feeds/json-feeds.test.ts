import { describe, expect, it } from 'vitest';
import { parseAws, parseAzure, parseCidr, parseGcp, parseOracle } from '../../../src/data/feeds/index.js';

const r = (text: string) => parseCidr(text)!;

// Excerpts in each publisher's own shape (field names and nesting as served), trimmed to a few entries.
const AWS = JSON.stringify({
  syncToken: '1755836594',
  createDate: '2026-08-22-04-23-14',
  prefixes: [
    { ip_prefix: '3.4.12.4/32', region: 'eu-west-1', service: 'AMAZON', network_border_group: 'eu-west-1' },
    { ip_prefix: '13.32.0.0/15', region: 'GLOBAL', service: 'CLOUDFRONT', network_border_group: 'GLOBAL' },
    { ip_prefix: '52.94.76.0/22', region: 'us-west-2', service: 'AMAZON', network_border_group: 'us-west-2' },
  ],
  ipv6_prefixes: [
    { ipv6_prefix: '2600:1f14::/35', region: 'us-west-2', service: 'EC2', network_border_group: 'us-west-2' },
    {
      ipv6_prefix: '2a05:d07a:a000::/40',
      region: 'eu-south-1',
      service: 'S3',
      network_border_group: 'eu-south-1',
    },
  ],
});

describe('AWS ip-ranges.json', () => {
  it('reads IPv4 and IPv6 prefixes of every service, CloudFront edges included, with syncToken and date', () => {
    const out = parseAws(AWS);
    expect(out.ranges).toEqual([
      r('3.4.12.4/32'),
      r('13.32.0.0/15'),
      r('52.94.76.0/22'),
      r('2600:1f14::/35'),
      r('2a05:d07a:a000::/40'),
    ]);
    expect(out).toMatchObject({ skipped: 0, version: '1755836594 2026-08-22-04-23-14' });
    expect(out.problem).toBeUndefined();
  });

  it('counts a bad prefix and one wider than /8 as skipped, and a non-AWS document as a problem', () => {
    const doc = {
      prefixes: [
        { ip_prefix: '0.0.0.0/0' },
        { ip_prefix: '300.1.1.0/24' },
        { ip_prefix: 7 },
        { ip_prefix: '15.177.0.0/18' },
      ],
    };
    expect(parseAws(JSON.stringify(doc))).toMatchObject({ ranges: [r('15.177.0.0/18')], skipped: 3 });
    expect(parseAws('<html>503</html>').problem).toMatch(/not AWS/);
    expect(parseAws('{"prefixes": {}}').problem).toMatch(/not AWS/);
  });
});

describe('Google cloud.json', () => {
  it('reads ipv4Prefix and ipv6Prefix entries', () => {
    const doc = {
      syncToken: '1755799200943',
      creationTime: '2026-08-21T11:00:00.943099',
      prefixes: [
        { ipv4Prefix: '34.1.208.0/20', service: 'Google Cloud', scope: 'africa-south1' },
        { ipv6Prefix: '2600:1900:8000::/44', service: 'Google Cloud', scope: 'africa-south1' },
        { ipv4Prefix: '34.35.0.0/16', service: 'Google Cloud', scope: 'africa-south1' },
      ],
    };
    expect(parseGcp(JSON.stringify(doc))).toEqual({
      ranges: [r('34.1.208.0/20'), r('2600:1900:8000::/44'), r('34.35.0.0/16')],
      skipped: 0,
      version: '1755799200943 2026-08-21T11:00:00.943099',
    });
  });

  it('skips an entry with neither prefix field', () => {
    expect(parseGcp('{"prefixes":[{"service":"Google Cloud"},null]}')).toMatchObject({
      ranges: [],
      skipped: 2,
    });
  });
});

describe('Oracle public_ip_ranges.json', () => {
  it('reads every region’s CIDRs and dates the feed by last_updated_timestamp', () => {
    const doc = {
      last_updated_timestamp: '2026-08-19T23:13:41.161545',
      regions: [
        {
          region: 'us-phoenix-1',
          cidrs: [
            { cidr: '129.146.0.0/21', tags: ['OCI'] },
            { cidr: '134.70.24.0/21', tags: ['OBJECT_STORAGE'] },
          ],
        },
        { region: 'eu-frankfurt-1', cidrs: [{ cidr: '130.61.0.0/16', tags: ['OCI'] }] },
      ],
    };
    expect(parseOracle(JSON.stringify(doc))).toEqual({
      ranges: [r('129.146.0.0/21'), r('134.70.24.0/21'), r('130.61.0.0/16')],
      skipped: 0,
      version: '2026-08-19T23:13:41.161545',
    });
  });
});

describe('Azure Service Tags JSON', () => {
  it('reads the AzureCloud tags only, IPv4 and IPv6, versioned by changeNumber', () => {
    const doc = {
      changeNumber: 349,
      cloud: 'Public',
      values: [
        {
          name: 'ActionGroup',
          id: 'ActionGroup',
          properties: { changeNumber: 50, addressPrefixes: ['4.145.74.52/30'] },
        },
        {
          name: 'AzureCloud',
          id: 'AzureCloud',
          properties: { addressPrefixes: ['4.145.0.0/16', '2603:1000::/40'] },
        },
        {
          name: 'AzureCloud.westeurope',
          id: 'AzureCloud.westeurope',
          properties: { region: 'westeurope', addressPrefixes: ['13.69.0.0/17'] },
        },
      ],
    };
    expect(parseAzure(JSON.stringify(doc))).toEqual({
      ranges: [r('4.145.0.0/16'), r('2603:1000::/40'), r('13.69.0.0/17')],
      skipped: 0,
      version: '349',
    });
  });
});
