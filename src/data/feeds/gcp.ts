/** Google Cloud's cloud.json: `{ syncToken, creationTime, prefixes: [{ ipv4Prefix | ipv6Prefix, service, scope }] }`. */
import {
  arrayField,
  type FeedResult,
  jsonObject,
  RangeCollector,
  unreadable,
  versionField,
} from './range.js';

/**
 * Customers' space only. Google's goog.json (every Google service, Google One VPN included) is not this feed:
 * its users are ordinary people. The version is `syncToken creationTime`.
 */
export function parseGcp(text: string): FeedResult {
  const doc = jsonObject(text);
  if (!doc || !Array.isArray(doc.prefixes)) return unreadable('not Google cloud.json: no `prefixes` array');
  const out = new RangeCollector();
  for (const p of arrayField(doc, 'prefixes')) {
    const entry = (p ?? {}) as { ipv4Prefix?: unknown; ipv6Prefix?: unknown };
    out.cidr(entry.ipv4Prefix ?? entry.ipv6Prefix);
  }
  return out.result(versionField(doc, 'syncToken', 'creationTime'));
}
