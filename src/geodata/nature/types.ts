/** The IP-nature vocabulary: the kinds in precedence order, the feeds, and what a lookup answers. */

/**
 * What an address is, in precedence order: iCloud Private Relay first (relay egress sits in Akamai, Cloudflare
 * and Fastly space, which hosting lists hold too: a relay user must never read as hosting), then Tor, VPN, hosting.
 */
export const NATURE_KINDS = ['relay', 'tor', 'vpn', 'hosting'] as const;
export type NatureKind = (typeof NATURE_KINDS)[number];

/** The feeds, as `updateDatabase({ feeds })` and `--feed NAME=URL` name them. */
export const FEED_NAMES = [
  'aws',
  'gcp',
  'oracle',
  'azure',
  'digitalocean',
  'linode',
  'vultr',
  'hosting-asn',
  'tor',
  'icloud-relay',
  'vpn',
] as const;
export type FeedName = (typeof FEED_NAMES)[number];

/** The kind each feed's ranges carry. */
export const FEED_KIND: Readonly<Record<FeedName, NatureKind>> = {
  aws: 'hosting',
  gcp: 'hosting',
  oracle: 'hosting',
  azure: 'hosting',
  digitalocean: 'hosting',
  linode: 'hosting',
  vultr: 'hosting',
  'hosting-asn': 'hosting',
  tor: 'tor',
  'icloud-relay': 'relay',
  vpn: 'vpn',
};

/** An inclusive range of addresses of one family as unsigned integers (IPv4 in 32 bits, IPv6 in 128). */
export interface NatureRange {
  family: 4 | 6;
  first: bigint;
  last: bigint;
  /** ISO 3166-1 alpha-2 when the feed names one; the table keeps it for relay ranges only. */
  country?: string;
  /** The network inside a feed of several (hosting-asn's `hetzner`, vpn's `mullvad`); else the feed's name. */
  network?: string;
}

/** One feed's ranges as the compiler takes them, with what the table's header says of it. */
export interface FeedInput {
  name: FeedName;
  /** The publisher's version or date (syncToken, changeNumber, a mirror's commit date…). */
  version: string | null;
  ranges: readonly NatureRange[];
  /** Entries of the feed that did not parse. */
  skipped?: number;
}

/** What the header says of one feed. `ranges` counts its ranges after merging. */
export interface FeedSummary {
  name: FeedName;
  kind: NatureKind;
  version: string | null;
  ranges: number;
  skipped: number;
}

/** What a lookup answers for a listed address; a shared, frozen object per distinct answer. */
export interface NatureMatch {
  /** Every kind the address carries, in precedence order: a VPN server in a datacenter is `['vpn', 'hosting']`. */
  readonly kinds: readonly NatureKind[];
  /** The first match's list in precedence order: `aws`, `hetzner`, `tor`, `mullvad`, `icloud-private-relay`… */
  readonly network: string;
  /** For a Private Relay egress, the country of Apple's row (the user's coarse location); else null. */
  readonly country: string | null;
}
