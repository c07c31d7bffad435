/** The Tor Project's bulk exit list (check.torproject.org/torbulkexitlist): one exit address a line, v4 or v6. */
import { isPublicRange } from './public-range.js';
import { contentLines, type FeedResult, parseAddress } from './range.js';

/**
 * Each line's address as a single-address range. A CIDR or anything else is skipped: the list names measured
 * exit addresses, never networks, so a prefix in it is not the publisher's format. An address that is not
 * public unicast is skipped too: no exit is ever there.
 */
export function parseTorExits(text: string): FeedResult {
  const result: FeedResult = { ranges: [], skipped: 0, version: null };
  for (const line of contentLines(text)) {
    const addr = parseAddress(line);
    if (addr && isPublicRange(addr.family, addr.value, addr.value))
      result.ranges.push({ family: addr.family, first: addr.value, last: addr.value });
    else result.skipped++;
  }
  return result;
}
