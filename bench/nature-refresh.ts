/**
 * A full IP-nature refresh from loopback feeds of real size: every feed of data/feeds-snapshot/ served in its
 * publisher's format (AWS JSON, geofeeds, Apple's CSV, the Tor list…), the ASN table padded with 600 000 rows
 * of unlisted ASNs as ip-location-db's full table has, then `updateDatabase({ dataset: 'ip-nature', feeds })`.
 *
 *   npx tsx bench/nature-refresh.ts [--rounds=3]
 *
 * Prints one JSON object on stdout ({ medianMs, runsMs, sizeKB, ranges }); the target is at most 5 000 ms.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { updateDatabase } from 'ipmatch';
import { FEED_NAMES, type FeedName } from '../src/geodata/nature/types.js';
import { feedDocument, startFeedServer } from '../test/helpers/feed-server.js';
import { median } from './stats.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const rounds = Number(arg('rounds') ?? 3);
const snapshot = fileURLToPath(new URL('../data/feeds-snapshot/', import.meta.url));
const read = (file: string) => readFileSync(join(snapshot, file), 'utf8');
const lines = (...files: string[]) =>
  files.flatMap((f) =>
    read(f)
      .split('\n')
      .filter((l) => l.trim() !== ''),
  );

/** The rows of ASNs that are not listed, which the parser reads and passes over. */
function filler(rows: number): string {
  const out: string[] = [];
  for (let i = 0; i < rows; i++) {
    const a = 1 + (i >> 16);
    out.push(`${a}.${(i >> 8) & 255}.${i & 255}.0,${a}.${(i >> 8) & 255}.${i & 255}.255,64512,Example ISP`);
  }
  return `${out.join('\n')}\n`;
}

const server = await startFeedServer();
const docs: Partial<Record<FeedName, string>> = {
  aws: feedDocument('aws', lines('aws-ipv4.txt', 'aws-ipv6.txt')),
  gcp: read('gcp-cloud.json'),
  oracle: feedDocument('oracle', lines('oracle-ipv4.txt')),
  azure: read('azure-servicetags.json'),
  digitalocean: feedDocument('digitalocean', lines('digitalocean-ipv4.txt', 'digitalocean-ipv6.txt')),
  linode: feedDocument('linode', lines('linode-ipv4.txt', 'linode-ipv6.txt')),
  vultr: feedDocument('vultr', lines('vultr-ipv4.txt', 'vultr-ipv6.txt')),
  'hosting-asn': read('asn-ipv4.csv') + filler(600_000) + read('asn-ipv6.csv'),
  tor: read('tor-exits.txt'),
  'icloud-relay': read('icloud-relay.csv'),
  vpn: lines('vpn-mullvad.txt', 'vpn-pia.txt').join('\n'),
};
for (const name of FEED_NAMES) server.publish(name, docs[name]!);

const runsMs: number[] = [];
let last: { size: number; ranges: number; notUpdated: string[] } | undefined;
for (let i = 0; i < rounds; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'ipmatch-nature-bench-'));
  const started = performance.now();
  const r = await updateDatabase({ dataset: 'ip-nature', dir, feeds: server.urls });
  runsMs.push(Math.round(performance.now() - started));
  last = {
    size: statSync(r.path).size,
    ranges: r.feeds.reduce((n, f) => n + f.ranges, 0),
    notUpdated: r.feeds.filter((f) => f.status !== 'updated').map((f) => f.name),
  };
  rmSync(dir, { recursive: true, force: true });
}
await server.close();
console.log(
  JSON.stringify({
    medianMs: median(runsMs),
    runsMs,
    sizeKB: Math.round(last!.size / 1024),
    ranges: last!.ranges,
    notUpdated: last!.notUpdated,
  }),
);
