/**
 * Builds the bundled IP-nature snapshot, data/ip-nature.bin, from the feed copies in data/feeds-snapshot/
 * (SOURCES.md says where each came from). Most mirrors hold plain CIDR lines where the publishers serve JSON or
 * geofeeds, so those are read as lines; Google's cloud.json, Azure's Service Tags, Tor, Apple's relay CSV and
 * the ASN table are read by the runtime parsers. The build date is the newest feed's date, so the same snapshot always gives the same bytes.
 *
 * npx tsx scripts/build-ip-nature.ts [--out data/ip-nature.bin]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type FeedResult,
  parseAsnTable,
  parseAzure,
  parseCidrLines,
  parseGcp,
  parseHostingAsnList,
  parseIcloudRelay,
  parseTorExits,
} from '../src/data/feeds/index.js';
import {
  compileNature,
  type FeedInput,
  type FeedName,
  writeNatureTable,
} from '../src/geodata/nature/index.js';

const root = new URL('..', import.meta.url).pathname;
const snapshot = join(root, 'data/feeds-snapshot');
const { values } = parseArgs({
  options: { out: { type: 'string', default: join(root, 'data/ip-nature.bin') } },
});
const read = (file: string): string => readFileSync(join(snapshot, file), 'utf8');
const versions: Record<string, string> = JSON.parse(read('versions.json'));

/** Joins the results of one feed's files, counting every file's skips. */
function feed(name: FeedName, results: FeedResult[]): FeedInput {
  return {
    name,
    version: versions[name] ?? null,
    ranges: results.flatMap((r) => r.ranges),
    skipped: results.reduce((n, r) => n + r.skipped, 0),
  };
}

/** A mirror's `<feed>-ipv4.txt` and `-ipv6.txt` (when there is one), as CIDR lines. */
const lines = (name: FeedName, v6 = true): FeedInput =>
  feed(name, [
    parseCidrLines(read(`${name}-ipv4.txt`)),
    ...(v6 ? [parseCidrLines(read(`${name}-ipv6.txt`))] : []),
  ]);

const asnList = parseHostingAsnList(readFileSync(join(root, 'data/hosting-asns.txt'), 'utf8'));
if (asnList.problems.length > 0) throw new Error(`data/hosting-asns.txt: ${asnList.problems.join('; ')}`);
const vpn = (network: string, file: string): FeedResult => {
  const result = parseCidrLines(read(file));
  for (const r of result.ranges) r.network = network;
  return result;
};

const feeds: FeedInput[] = [
  feed('icloud-relay', [parseIcloudRelay(read('icloud-relay.csv'))]),
  feed('tor', [parseTorExits(read('tor-exits.txt'))]),
  feed('vpn', [vpn('mullvad', 'vpn-mullvad.txt'), vpn('pia', 'vpn-pia.txt')]),
  lines('aws'),
  feed('gcp', [parseGcp(read('gcp-cloud.json'))]),
  feed('azure', [parseAzure(read('azure-servicetags.json'))]),
  lines('oracle', false),
  lines('digitalocean'),
  lines('linode'),
  lines('vultr'),
  feed('hosting-asn', [
    parseAsnTable(read('asn-ipv4.csv'), asnList.networks),
    parseAsnTable(read('asn-ipv6.csv'), asnList.networks),
  ]),
];

const builtAt = Object.values(versions)
  .map((v) => /\d{4}-\d{2}-\d{2}$/.exec(v)?.[0] ?? '')
  .sort()
  .at(-1)!;
const started = performance.now();
const compiled = compileNature(feeds);
const bytes = writeNatureTable(compiled, `${builtAt}T00:00:00.000Z`);
writeFileSync(values.out!, bytes);
const ms = (performance.now() - started).toFixed(0);
console.log(
  `${values.out}: ${(bytes.length / 1024).toFixed(0)} KiB, ${compiled.v4.first.length} IPv4 and ` +
    `${compiled.v6.first.length} IPv6 segments, ${compiled.labels.length} labels, compiled in ${ms} ms`,
);
for (const f of compiled.feeds)
  console.log(
    `  ${f.name.padEnd(13)} ${String(f.ranges).padStart(6)} ranges, ${f.skipped} skipped  (${f.version})`,
  );
