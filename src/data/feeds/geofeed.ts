/** RFC 8805 geofeeds (DigitalOcean, Linode, Vultr): `prefix,country,region,city,postal` lines, `#` comments. */
import { contentLines, countryCode, type FeedResult, RangeCollector } from './range.js';

/**
 * Each line's prefix, with its country when the second field is an alpha-2 code (RFC 8805 allows it empty).
 * A geofeed has no version field; the caller dates it.
 */
export function parseGeofeed(text: string): FeedResult {
  const out = new RangeCollector();
  for (const line of contentLines(text)) {
    const fields = line.split(',');
    out.cidr(fields[0], countryCode(fields[1]));
  }
  return out.result(null);
}
