/** Plain CIDR or address lines, `#` comments: the VPN providers' endpoint lists (Mullvad, PIA, ProtonVPN…). */
import { contentLines, type FeedResult, RangeCollector } from './range.js';

/** Each line's CIDR or address (a /32 or /128). A list of lines has no version field; the caller dates it. */
export function parseCidrLines(text: string): FeedResult {
  const out = new RangeCollector();
  for (const line of contentLines(text)) out.cidr(line);
  return out.result(null);
}
