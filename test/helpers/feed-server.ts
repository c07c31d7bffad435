/** A loopback server that plays every IP-nature feed in its publisher's own format, at /<feed name>. */
import ipaddr from 'ipaddr.js';
import { FEED_NAMES, type FeedName } from '../../src/geodata/nature/types.js';
import { type DataServer, type Route, startDataServer } from './data-server.js';

/** Each feed's entries as CIDRs or bare addresses (Tor: addresses only). */
export type FeedEntries = Partial<Record<FeedName, readonly string[]>>;

const v6 = (cidr: string) => cidr.includes(':');
const prefix = (cidr: string) => (cidr.includes('/') ? cidr : `${cidr}/${v6(cidr) ? 128 : 32}`);

/** A CIDR's first and last address, as ip-location-db's ASN table writes them. */
function bounds(cidr: string): [string, string] {
  const [addr, bits] = ipaddr.parseCIDR(prefix(cidr));
  const bytes = addr.toByteArray();
  const last = bytes.map((b, i) => {
    const hostBits = Math.min(8, Math.max(0, (i + 1) * 8 - bits));
    return b | ((1 << hostBits) - 1);
  });
  const first = bytes.map((b, i) => {
    const hostBits = Math.min(8, Math.max(0, (i + 1) * 8 - bits));
    return b & ~((1 << hostBits) - 1) & 0xff;
  });
  return [ipaddr.fromByteArray(first).toString(), ipaddr.fromByteArray(last).toString()];
}

/** One feed's document, written as its publisher writes it. */
export function feedDocument(name: FeedName, entries: readonly string[]): string {
  const four = entries.filter((e) => !v6(e)).map(prefix);
  const six = entries.filter(v6).map(prefix);
  switch (name) {
    case 'aws':
      return JSON.stringify({
        syncToken: '1764979200',
        createDate: '2026-12-06-00-00-00',
        prefixes: four.map((p) => ({ ip_prefix: p, region: 'eu-west-2', service: 'EC2' })),
        ipv6_prefixes: six.map((p) => ({ ipv6_prefix: p, region: 'eu-west-2', service: 'EC2' })),
      });
    case 'gcp':
      return JSON.stringify({
        syncToken: '1764979200000',
        creationTime: '2026-12-06T00:00:00',
        prefixes: [...four.map((p) => ({ ipv4Prefix: p })), ...six.map((p) => ({ ipv6Prefix: p }))].map(
          (p) => ({ ...p, service: 'Google Cloud', scope: 'europe-west2' }),
        ),
      });
    case 'oracle':
      return JSON.stringify({
        last_updated_timestamp: '2026-12-06T00:00:00.000000',
        regions: [{ region: 'uk-london-1', cidrs: entries.map((p) => ({ cidr: prefix(p), tags: ['OCI'] })) }],
      });
    case 'azure':
      return JSON.stringify({
        changeNumber: 301,
        cloud: 'Public',
        values: [{ name: 'AzureCloud.uksouth', properties: { addressPrefixes: entries.map(prefix) } }],
      });
    case 'digitalocean':
    case 'linode':
    case 'vultr':
      return `# RFC 8805 geofeed\n${entries.map((p) => `${prefix(p)},US,US-NY,New York,`).join('\n')}\n`;
    case 'icloud-relay':
      return `${entries.map((p) => `${prefix(p)},GB,GB-EN,London,`).join('\n')}\n`;
    case 'hosting-asn':
      return `${entries.map((p) => `${bounds(p).join(',')},24940,Hetzner Online GmbH`).join('\n')}\n`;
    case 'tor':
    case 'vpn':
      return `${entries.join('\n')}\n`;
  }
}

export interface FeedServer {
  server: DataServer;
  /** The URL of every feed (for `feeds`, or `--feed NAME=URL`). */
  urls: Record<FeedName, string>;
  /** Serves a feed's document: its entries in the publisher's format, or any route (a body or a handler). */
  publish(name: FeedName, content: readonly string[] | Route): void;
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1 with every feed of `entries` published (the others answer 404). */
export async function startFeedServer(entries: FeedEntries = {}): Promise<FeedServer> {
  const server = await startDataServer();
  const publish: FeedServer['publish'] = (name, content) => {
    const route = Array.isArray(content) ? feedDocument(name, content) : (content as Route);
    server.routes.set(`/${name}`, route);
  };
  for (const [name, list] of Object.entries(entries)) publish(name as FeedName, list);
  const urls = Object.fromEntries(FEED_NAMES.map((n) => [n, `${server.url}/${n}`])) as Record<
    FeedName,
    string
  >;
  return { server, urls, publish, close: () => server.close() };
}
