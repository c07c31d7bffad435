/** Walks X-Forwarded-For from the socket peer, right to left, skipping trusted proxies, as proxy-addr does. */
import { normalizeIp } from '../../core/ip.js';
import type { PeerRequest, WarnOnce } from './client-ip-types.js';

/**
 * The client behind a chain of trusted proxies. Each proxy appends the address it received the request from,
 * so only the entries to the right of the first untrusted hop were written by your proxies; everything to its
 * left was written by the client, and is never read.
 *
 * - A peer outside `trusted` is the client: its headers are not read.
 * - Else X-Forwarded-For is read from the right (several headers count as one list, in order) until an entry
 *   that is not a trusted proxy: that entry is the client.
 * - An entry that is not a strict IP address (`unknown`, a port, a hostname) stops the walk with no
 *   client: the hop to its right wrote something other than an address, so nothing to its left can be placed.
 *   proxy-addr returns such an entry as it is; ipmatch returns undefined (the route's `ip_missing`).
 * - When every hop is trusted, the left-most one is the client (proxy-addr's answer): no header means the peer.
 */
export function walkForwardedFor(
  peer: string | undefined,
  header: string | readonly string[] | undefined,
  trusted: (address: string | undefined) => boolean,
): string | undefined {
  if (!trusted(peer)) return peer;
  const list = typeof header === 'string' ? header : header?.join(',');
  if (!list) return peer;
  let end = list.length;
  let hop = peer;
  while (end > 0) {
    // lastIndexOf reads a negative start as 0: at the start of the list there is no comma left to find, even
    // when the list opens with one (`,1.2.3.4`), which would otherwise be found again for ever.
    const comma = list.lastIndexOf(',', end - 1);
    const entry = list.slice(comma + 1, end).trim();
    // Empty entries (`a,,b`, a trailing comma) are skipped, as the `forwarded` parser under proxy-addr skips them.
    if (entry !== '') {
      if (normalizeIp(entry).address === null) return undefined;
      hop = entry;
      if (!trusted(entry)) return entry;
    }
    if (comma === -1) break;
    end = comma;
  }
  return hop;
}

/**
 * `clientIp: 'request-ip'` (or `'x-forwarded-for'` with `trustedProxies`): the walk, per request. A header
 * from a peer outside `trustedProxies` is ignored, with one warning; so is a runtime that shows no peer.
 */
export function fromForwardedFor<Req>(
  rawOf: (req: Req) => PeerRequest,
  trusted: (address: string | undefined) => boolean,
  warnOnce: WarnOnce,
  noPeerAdvice: string,
): (req: Req) => string | undefined {
  let warnedXff = false;
  let warnedPeer = false;
  return (req) => {
    const raw = rawOf(req);
    const peer = raw.socket?.remoteAddress;
    const header = raw.headers['x-forwarded-for'];
    if (peer === undefined && !warnedPeer) {
      warnedPeer = true;
      warnOnce(
        'IPMATCH_NO_PEER',
        'ipmatch: this request came with no connection address, so X-Forwarded-For cannot be walked from a ' +
          `trusted proxy and the check has no client IP (signal ip_missing): ${noPeerAdvice}.`,
      );
    } else if (!warnedXff && header !== undefined && peer !== undefined && !trusted(peer)) {
      warnedXff = true;
      warnOnce(
        'IPMATCH_XFF_UNTRUSTED',
        'ipmatch: an X-Forwarded-For header arrived from a peer outside trustedProxies, so it was ignored and ' +
          'the socket address used. If your proxy sent it, add its address to trustedProxies.',
      );
    }
    return walkForwardedFor(peer, header, trusted);
  };
}
