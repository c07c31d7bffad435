/** The curated hosting-ASN list (`AS24940 hetzner # …` lines) and the open IP→ASN tables it is resolved with. */
import { isPublicRange } from './public-range.js';
import { contentLines, type FeedRange, type FeedResult, parseAddress, withinSizeLimit } from './range.js';

/** The curated list: each ASN and the network name a decision shows for it (`hetzner`, `ovh`…). */
export interface HostingAsnList {
  networks: Map<number, string>;
  /** Lines that were not `AS<number> <name>`, with their line numbers, for the build to refuse. */
  problems: string[];
}

const ASN_LINE = /^AS(\d{1,10})\s+([a-z0-9][a-z0-9-]{0,31})$/;

/** Reads the list: one `AS<number> <network>` a line, a `#` comment after it saying who the ASN is. */
export function parseHostingAsnList(text: string): HostingAsnList {
  const networks = new Map<number, string>();
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const hash = raw.indexOf('#');
    const line = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    if (line.length === 0) return;
    const m = ASN_LINE.exec(line);
    const asn = m ? Number(m[1]) : Number.NaN;
    if (!m || asn <= 0 || asn > 0xffffffff) problems.push(`line ${i + 1}: expected "AS<number> <network>"`);
    else if (networks.has(asn)) problems.push(`line ${i + 1}: AS${asn} is listed twice`);
    else networks.set(asn, m[2]!);
  });
  return { networks, problems };
}

/** Splits one CSV row with optional double-quoted fields (ip-location-db quotes names that hold commas). */
function splitRow(line: string, sep: string): string[] {
  if (sep === '\t' || !line.includes('"')) return line.split(sep);
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '"') quoted = !quoted;
    else if (ch === sep && !quoted) {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

/**
 * The ranges an IP→ASN table assigns to the listed ASNs, each tagged with its network. Two row formats:
 * ip-location-db's `asn-ipv4.csv` / `asn-ipv6.csv` (`first,last,asn,name`) and iptoasn.com's `ip2asn-v4.tsv`
 * (`first<TAB>last<TAB>asn<TAB>country<TAB>name`). Rows of other ASNs are passed over, not counted; a row of a
 * listed ASN that does not parse, spans more than MIN_PREFIX allows, or holds an address that is not public
 * unicast, is skipped and counted.
 */
export function parseAsnTable(text: string, networks: ReadonlyMap<number, string>): FeedResult {
  const ranges: FeedRange[] = [];
  let skipped = 0;
  for (const line of contentLines(text)) {
    const fields = splitRow(line, line.includes('\t') ? '\t' : ',');
    const network = networks.get(Number(fields[2]));
    if (network === undefined || !/^\d+$/.test(fields[2] ?? '')) continue;
    const first = parseAddress(fields[0]!.trim());
    const last = parseAddress((fields[1] ?? '').trim());
    if (
      !first ||
      !last ||
      first.family !== last.family ||
      !withinSizeLimit(first.family, first.value, last.value) ||
      !isPublicRange(first.family, first.value, last.value)
    ) {
      skipped++;
      continue;
    }
    ranges.push({ family: first.family, first: first.value, last: last.value, network });
  }
  return { ranges, skipped, version: null };
}
