/**
 * Copies the IP-nature feeds from local git snapshots of their public mirrors into data/feeds-snapshot/, which
 * scripts/build-ip-nature.ts compiles. Run by hand when the bundled snapshot is refreshed; record the commits in
 * data/feeds-snapshot/SOURCES.md. Two files are derived rather than copied:
 *  - icloud-relay.csv: Apple's `prefix,country,region,city,` rows, regenerated from nextdns's MMDB of Apple's
 *    file (prefix and country; region and city are not in it and the table does not keep them);
 *  - hosting-asn-ipv4.csv / -ipv6.csv: only the rows of ip-location-db's asn table (an npm package, unpacked)
 *    whose ASN is in data/hosting-asns.txt or is a consumer ASN of test/fixtures/consumer-asns.txt.
 *
 * tsx scripts/snapshot-ip-nature-feeds.ts --mirrors /work/.mirror --asn-table /tmp/asn/package
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { Reader } from 'mmdb-lib';
import { parseHostingAsnList } from '../src/data/feeds/index.js';
import { readRecord } from '../src/geodata/mmdb-tree.js';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'data/feeds-snapshot');
const { values } = parseArgs({ options: { mirrors: { type: 'string' }, 'asn-table': { type: 'string' } } });
if (!values.mirrors || !values['asn-table']) throw new Error('usage: --mirrors DIR --asn-table DIR');

/** A file at a mirror's HEAD, and the commit it came from. */
function show(repo: string, path: string): { text: string; commit: string } {
  const gitDir = join(values.mirrors!, repo.replace('/', '+'), 'repo');
  const commit = execFileSync('git', ['--git-dir', gitDir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const text = execFileSync('git', ['--git-dir', gitDir, 'show', `${commit}:${path}`], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  return { text, commit };
}

const copies: Array<[file: string, repo: string, path: string]> = [
  ['aws-ipv4.txt', 'lord-alfred/ipranges', 'amazon/ipv4_merged.txt'],
  ['aws-ipv6.txt', 'lord-alfred/ipranges', 'amazon/ipv6_merged.txt'],
  ['oracle-ipv4.txt', 'lord-alfred/ipranges', 'oracle/ipv4_merged.txt'],
  ['digitalocean-ipv4.txt', 'lord-alfred/ipranges', 'digitalocean/ipv4_merged.txt'],
  ['digitalocean-ipv6.txt', 'lord-alfred/ipranges', 'digitalocean/ipv6_merged.txt'],
  ['linode-ipv4.txt', 'lord-alfred/ipranges', 'linode/ipv4_merged.txt'],
  ['linode-ipv6.txt', 'lord-alfred/ipranges', 'linode/ipv6_merged.txt'],
  ['vultr-ipv4.txt', 'lord-alfred/ipranges', 'vultr/ipv4_merged.txt'],
  ['vultr-ipv6.txt', 'lord-alfred/ipranges', 'vultr/ipv6_merged.txt'],
  ['vpn-mullvad.txt', 'X4BNet/lists_vpn', 'input/vpn/ips/mullvadvpn.txt'],
  ['vpn-pia.txt', 'X4BNet/lists_vpn', 'input/vpn/ips/pia.txt'],
];
mkdirSync(out, { recursive: true });
for (const [file, repo, path] of copies) {
  const { text, commit } = show(repo, path);
  writeFileSync(join(out, file), text);
  console.log(`${file}\t${repo}@${commit}:${path}`);
}

// Google Cloud and Azure: the publishers' own JSON, gzipped verbatim by the mirror. Google's cloud.json is kept
// whole; of Azure's Service Tags (4 MB) only the `AzureCloud` tag, the one parseAzure reads as a whole (the
// regional `AzureCloud.*` tags lie inside it), in the document's own shape.
const cloudCache = join(values.mirrors, 'wangmm001+cloud-ip-ranges-cache', 'repo');
const cloudCommit = execFileSync('git', ['--git-dir', cloudCache, 'rev-parse', 'HEAD'], {
  encoding: 'utf8',
}).trim();
const gunzipped = (path: string): string =>
  gunzipSync(
    execFileSync('git', ['--git-dir', cloudCache, 'show', `${cloudCommit}:${path}`], { maxBuffer: 1 << 28 }),
  ).toString('utf8');
writeFileSync(join(out, 'gcp-cloud.json'), gunzipped('data/current/gcp.json.gz'));
const azure = JSON.parse(gunzipped('data/current/azure.json.gz')) as {
  changeNumber: number;
  cloud: string;
  values: Array<{ name: string }>;
};
const azureCloud = { ...azure, values: azure.values.filter((v) => v.name === 'AzureCloud') };
writeFileSync(join(out, 'azure-servicetags.json'), `${JSON.stringify(azureCloud, null, 1)}\n`);
console.log(
  `gcp-cloud.json, azure-servicetags.json\twangmm001/cloud-ip-ranges-cache@${cloudCommit}:data/current/`,
);

// Tor: the mirror's CSV (fingerprint, ipaddr, port) of Onionoo's exits, as the bulk exit list's lines.
const tor = show('alireza-rezaee/tor-nodes', 'latest.exits.csv');
const exits = new Set(
  tor.text
    .split('\n')
    .slice(1)
    .map((l) => l.split(',')[1]?.trim() ?? '')
    .filter(Boolean),
);
writeFileSync(join(out, 'tor-exits.txt'), `${[...exits].join('\n')}\n`);
console.log(
  `tor-exits.txt\talireza-rezaee/tor-nodes@${tor.commit}:latest.exits.csv (${exits.size} addresses)`,
);

// iCloud Private Relay: walk nextdns's MMDB of Apple's CSV; each network and its country as Apple's row.
const relayDir = join(values.mirrors, 'nextdns+icloud-private-relay-mmdb', 'repo');
const relayCommit = execFileSync('git', ['--git-dir', relayDir, 'rev-parse', 'HEAD'], {
  encoding: 'utf8',
}).trim();
const mmdb = execFileSync('git', ['--git-dir', relayDir, 'show', `${relayCommit}:egress-ip-ranges.mmdb`], {
  maxBuffer: 1 << 28,
});
const reader = new Reader(mmdb);
const tree = reader.metadata;
const rows: string[] = [];
const hex = (v: bigint): string => {
  const groups = v
    .toString(16)
    .padStart(32, '0')
    .match(/.{4}/g)!
    .map((g) => g.replace(/^0+(?=.)/, ''));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
};
const v4 = (v: bigint): string => [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
const walk = (node: number, depth: number, prefix: bigint): void => {
  for (const bit of [0, 1]) {
    const value = prefix | (BigInt(bit) << BigInt(127 - depth));
    const next = readRecord(
      mmdb,
      { nodeByteSize: tree.nodeByteSize, recordSize: tree.recordSize },
      node,
      bit,
    );
    if (next < tree.nodeCount) {
      if (depth + 1 < 128) walk(next, depth + 1, value);
      continue;
    }
    if (next === tree.nodeCount) continue;
    const bits = depth + 1;
    const top16 = value >> 112n;
    const aliased =
      top16 === 0x2002n || value >> 96n === 0x20010000n || (value >> 32n === 0xffffn && bits >= 96);
    if (aliased) continue;
    const isV4 = value >> 32n === 0n && bits >= 96;
    const text = isV4 ? v4(value) : hex(value);
    const country = (reader.get(text) as { country?: { iso_code?: string } } | null)?.country?.iso_code ?? '';
    rows.push(`${isV4 ? `${text}/${bits - 96}` : `${text}/${bits}`},${country},,,`);
  }
};
walk(0, 0, 0n);
writeFileSync(join(out, 'icloud-relay.csv'), `${rows.join('\n')}\n`);
console.log(
  `icloud-relay.csv\tnextdns/icloud-private-relay-mmdb@${relayCommit}:egress-ip-ranges.mmdb (${rows.length} rows)`,
);

// Hosting ASNs (and the consumer ASNs the precision sample is drawn from): their rows of the asn table only.
const wanted = new Set(
  parseHostingAsnList(readFileSync(join(root, 'data/hosting-asns.txt'), 'utf8')).networks.keys(),
);
for (const [asn] of parseHostingAsnList(readFileSync(join(root, 'test/fixtures/consumer-asns.txt'), 'utf8'))
  .networks)
  wanted.add(asn);
for (const family of ['ipv4', 'ipv6']) {
  const table = readFileSync(join(values['asn-table'], `asn-${family}.csv`), 'utf8');
  const kept = table.split('\n').filter((row) => wanted.has(Number(/^[^,]*,[^,]*,(\d+),/.exec(row)?.[1])));
  writeFileSync(join(out, `asn-${family}.csv`), `${kept.join('\n')}\n`);
  console.log(`asn-${family}.csv\t@ip-location-db/asn (${kept.length} rows)`);
}
