/** AWS's ip-ranges.json: `{ syncToken, createDate, prefixes: [{ ip_prefix }], ipv6_prefixes: [{ ipv6_prefix }] }`. */
import {
  arrayField,
  type FeedResult,
  jsonObject,
  RangeCollector,
  unreadable,
  versionField,
} from './range.js';

/**
 * Every prefix of every service, CloudFront and Global Accelerator edges included: a person never signs up from
 * a provider's edge, so they are hosting too. The version is `syncToken createDate`.
 */
export function parseAws(text: string): FeedResult {
  const doc = jsonObject(text);
  if (!doc || (!Array.isArray(doc.prefixes) && !Array.isArray(doc.ipv6_prefixes))) {
    return unreadable('not AWS ip-ranges.json: no `prefixes` or `ipv6_prefixes` array');
  }
  const out = new RangeCollector();
  for (const p of arrayField(doc, 'prefixes')) out.cidr((p as { ip_prefix?: unknown } | null)?.ip_prefix);
  for (const p of arrayField(doc, 'ipv6_prefixes'))
    out.cidr((p as { ipv6_prefix?: unknown } | null)?.ipv6_prefix);
  return out.result(versionField(doc, 'syncToken', 'createDate'));
}
