/** One parser per feed, by the feed's name; each reads its publisher's own format and never throws. */
import type { FeedName } from '../../geodata/nature/types.js';
import { parseAws } from './aws.js';
import { parseAzure } from './azure.js';
import { parseCidrLines } from './cidr-lines.js';
import { parseGcp } from './gcp.js';
import { parseGeofeed } from './geofeed.js';
import { parseAsnTable, parseHostingAsnList } from './hosting-asn.js';
import { parseIcloudRelay } from './icloud-relay.js';
import { parseOracle } from './oracle.js';
import type { FeedResult } from './range.js';
import { parseTorExits } from './tor.js';

/**
 * The parser of each feed that is one document. `hosting-asn` is two (the curated ASN list and an IP→ASN
 * table: parseHostingAsnList, parseAsnTable), and `vpn` is one list of lines per provider (parseCidrLines,
 * each tagged with its provider's network by the caller).
 */
export const FEED_PARSERS: Readonly<Record<Exclude<FeedName, 'hosting-asn'>, (text: string) => FeedResult>> =
  {
    aws: parseAws,
    gcp: parseGcp,
    oracle: parseOracle,
    azure: parseAzure,
    digitalocean: parseGeofeed,
    linode: parseGeofeed,
    vultr: parseGeofeed,
    tor: parseTorExits,
    'icloud-relay': parseIcloudRelay,
    vpn: parseCidrLines,
  };

export type { HostingAsnList } from './hosting-asn.js';
export { type FeedRange, type FeedResult, MIN_PREFIX, parseCidr } from './range.js';
export {
  parseAsnTable,
  parseAws,
  parseAzure,
  parseCidrLines,
  parseGcp,
  parseGeofeed,
  parseHostingAsnList,
  parseIcloudRelay,
  parseOracle,
  parseTorExits,
};
