/** Oracle Cloud's public_ip_ranges.json: `{ last_updated_timestamp, regions: [{ region, cidrs: [{ cidr, tags }] }] }`. */
import {
  arrayField,
  type FeedResult,
  jsonObject,
  RangeCollector,
  unreadable,
  versionField,
} from './range.js';

/** Every region's CIDRs, whatever their tags (OCI, OSN, OBJECT_STORAGE). The version is the update timestamp. */
export function parseOracle(text: string): FeedResult {
  const doc = jsonObject(text);
  if (!doc || !Array.isArray(doc.regions))
    return unreadable('not Oracle public_ip_ranges.json: no `regions` array');
  const out = new RangeCollector();
  for (const region of arrayField(doc, 'regions')) {
    for (const c of arrayField(region, 'cidrs')) out.cidr((c as { cidr?: unknown } | null)?.cidr);
  }
  return out.result(versionField(doc, 'last_updated_timestamp'));
}
