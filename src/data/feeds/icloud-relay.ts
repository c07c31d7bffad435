/** Apple's iCloud Private Relay egress-ip-ranges.csv: `prefix,country,region,city,` rows with no header. */

import { parseGeofeed } from './geofeed.js';
import type { FeedResult } from './range.js';

/**
 * Apple's file is an RFC 8805 geofeed (its fifth, postal field always empty), so it reads as one: each row's
 * prefix and country. Apple says an egress address "accurately represents the client's coarse location", so
 * the country is the user's; region and city are dropped, as the decision carries only a country. A row
 * without a valid country keeps its range (it is still a relay) without one.
 */
export function parseIcloudRelay(text: string): FeedResult {
  return parseGeofeed(text);
}
