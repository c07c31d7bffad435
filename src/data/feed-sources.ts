/** Where each IP-nature feed is published, and how its downloaded documents become one feed's ranges. */

import type { FeedName } from '../geodata/nature/types.js';
import { FEED_PARSERS, type FeedResult, parseAsnTable, parseCidrLines } from './feeds/index.js';

/** One document of a feed: its URL and, for a feed of several lists (vpn), the network its lines name. */
export interface FeedDocument {
  url: string;
  network?: string;
}

const X4B = 'https://raw.githubusercontent.com/X4BNet/lists_vpn/main/input/vpn/ips';
const ASN_TABLE = 'https://cdn.jsdelivr.net/npm/@ip-location-db/asn';

/**
 * The publishers' own documents. Azure has none: its Service Tags URL changes every week, so the feed is read
 * only from a URL given with `feeds.azure` (`--feed azure=URL`). `hosting-asn` is an open IP→ASN table (read
 * against `data/hosting-asns.txt`); `vpn` is one list of addresses per provider.
 */
export const FEED_SOURCES: Readonly<Record<FeedName, readonly FeedDocument[]>> = {
  aws: [{ url: 'https://ip-ranges.amazonaws.com/ip-ranges.json' }],
  gcp: [{ url: 'https://www.gstatic.com/ipranges/cloud.json' }],
  oracle: [{ url: 'https://docs.oracle.com/en-us/iaas/tools/public_ip_ranges.json' }],
  azure: [],
  digitalocean: [{ url: 'https://www.digitalocean.com/geo/google.csv' }],
  linode: [{ url: 'https://geoip.linode.com/' }],
  vultr: [{ url: 'https://geofeed.constant.com/?text' }],
  'hosting-asn': [{ url: `${ASN_TABLE}/asn-ipv4.csv` }, { url: `${ASN_TABLE}/asn-ipv6.csv` }],
  tor: [{ url: 'https://check.torproject.org/torbulkexitlist' }],
  'icloud-relay': [{ url: 'https://mask-api.icloud.com/egress-ip-ranges.csv' }],
  vpn: [
    { url: `${X4B}/mullvadvpn.txt`, network: 'mullvad' },
    { url: `${X4B}/pia.txt`, network: 'pia' },
  ],
};

/** The documents to fetch for a feed: the one URL given for it (a mirror), else its publisher's. */
export function feedDocuments(name: FeedName, given: string | undefined): readonly FeedDocument[] {
  return given === undefined ? FEED_SOURCES[name] : [{ url: given }];
}

/**
 * Parses a feed's documents (in `feedDocuments` order) into one result: ranges joined, skips summed, the
 * first version found, and the first document-level problem (which fails the whole feed).
 */
export function parseFeed(
  name: FeedName,
  docs: ReadonlyArray<{ doc: FeedDocument; text: string }>,
  hostingAsns: ReadonlyMap<number, string>,
): FeedResult {
  const results = docs.map(({ doc, text }): FeedResult => {
    if (name === 'hosting-asn') return parseAsnTable(text, hostingAsns);
    if (name !== 'vpn') return FEED_PARSERS[name](text);
    const result = parseCidrLines(text);
    if (doc.network !== undefined) for (const r of result.ranges) r.network = doc.network;
    return result;
  });
  const problem = results.find((r) => r.problem !== undefined)?.problem;
  return {
    ranges: results.flatMap((r) => r.ranges),
    skipped: results.reduce((n, r) => n + r.skipped, 0),
    version: results.find((r) => r.version !== null)?.version ?? null,
    ...(problem === undefined ? {} : { problem }),
  };
}
