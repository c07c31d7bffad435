/** `clientIp: '<header>'`: a header your platform sets, believed as far as its socket peer allows. */
import { normalizeIp } from '../../core/ip.js';
import type { PeerRequest, WarnOnce } from './client-ip-types.js';

/**
 * Who sets each well-known client-IP header, and from where that platform connects to the app:
 * - `'public'`: from its own public edge addresses (Cloudflare), or over no socket at all (Workers);
 * - `'near'`: from a proxy on your own network or host (nginx, a cloud load balancer, Fly's proxy), or over no
 *   socket at all (Vercel's functions).
 * So a Cloudflare header from a loopback or private peer, or any other header from a public peer, did not come
 * through that platform: whoever reaches the app that way can write the header.
 */
const PLATFORMS: Record<string, { platform: string; peer: 'public' | 'near' }> = {
  'cf-connecting-ip': { platform: 'Cloudflare', peer: 'public' },
  'cf-connecting-ipv6': { platform: 'Cloudflare (Pseudo IPv4)', peer: 'public' },
  'true-client-ip': { platform: 'Cloudflare Enterprise and Akamai', peer: 'public' },
  'x-real-ip': { platform: 'Vercel, or an nginx proxy_set_header line', peer: 'near' },
  'x-vercel-forwarded-for': { platform: 'Vercel', peer: 'near' },
  'fly-client-ip': { platform: 'Fly.io', peer: 'near' },
  'x-forwarded-for': { platform: 'your proxy or load balancer', peer: 'near' },
  forwarded: { platform: 'your proxy or load balancer', peer: 'near' },
};
const OTHER = { platform: 'the proxy or platform in front of your app', peer: 'near' } as const;

const FOR = /(?:^|;)\s*for\s*=\s*("?)\[?([^\]";]*)\]?(?::\d+)?\1\s*(?:;|$)/i;

/**
 * A header value's right-most entry (the one the nearest proxy wrote), when it is an IP address; for
 * `Forwarded` (RFC 7239), the `for=` of its last element, without quotes, brackets or port.
 */
export function lastAddress(
  value: string | readonly string[] | undefined,
  forwarded = false,
): string | undefined {
  const list = typeof value === 'string' ? value : value?.join(',');
  if (!list) return undefined;
  let entry = list.slice(list.lastIndexOf(',') + 1).trim();
  if (forwarded) entry = FOR.exec(entry)?.[2] ?? '';
  return normalizeIp(entry).address === null ? undefined : entry;
}

/** What to do instead, said in every warning of this mode. */
const FIX =
  "On plain Node, with no such platform in front, use clientIp: 'framework' (the socket peer, or your " +
  "framework's proxy trust); behind your own proxies, clientIp: 'request-ip' with trustedProxies.";

/**
 * The header, believed:
 * - with `trustedProxies`, only from a trusted socket peer; from any other peer the peer itself is the client
 *   (one `IPMATCH_CLIENT_IP_HEADER_UNTRUSTED_PEER` warning when the header came anyway);
 * - without, from anyone, with one `IPMATCH_CLIENT_IP_HEADER_UNTRUSTED_PEER` warning the first time it comes
 *   from a peer its platform would never be (see PLATFORMS). No peer (Workers, a bare Request) is no warning.
 * - with `trustedProxies` and no peer at all, not: no client IP, with one `IPMATCH_NO_PEER` warning.
 * An absent header, or one with no address, is no client IP (the route's `ip_missing`), with one
 * `IPMATCH_CLIENT_IP_HEADER_MISSING` warning.
 */
export function fromHeader<Req>(
  rawOf: (req: Req) => PeerRequest,
  name: string,
  trusted: ((address: string | undefined) => boolean) | undefined,
  warnOnce: WarnOnce,
  noPeerAdvice: string,
): (req: Req) => string | undefined {
  const key = name.toLowerCase();
  const { platform, peer: platformPeer } = PLATFORMS[key] ?? OTHER;
  const forwarded = key === 'forwarded';
  let warnedMissing = false;
  let warnedPeer = false;
  const missing = () => {
    warnedMissing = true;
    warnOnce(
      'IPMATCH_CLIENT_IP_HEADER_MISSING',
      `ipmatch: clientIp names the '${key}' header, which ${platform} sets, but a request came without an ` +
        'address in it, so its check has no client IP (signal ip_missing). ' +
        FIX,
    );
  };
  const untrustedPeer = (peer: string, ignored: boolean) => {
    warnedPeer = true;
    warnOnce(
      'IPMATCH_CLIENT_IP_HEADER_UNTRUSTED_PEER',
      ignored
        ? `ipmatch: a '${key}' header came from a peer outside trustedProxies, so it was ignored and the ` +
            'socket address used. If your proxy sent it, add its address to trustedProxies.'
        : `ipmatch: a '${key}' header came from a ${platformPeer === 'public' ? 'loopback or private' : 'public'} ` +
            `address, which ${platform} never connects from, so anyone who reaches this server can write ` +
            "the header and choose the IP that is checked. List the proxies that set it in trustedProxies (e.g. ['loopback'] " +
            `for a proxy on this host, or ${platform}'s published ranges). ${FIX}`,
      { peer: normalizeIp(peer).public ? 'public' : 'not public' },
    );
  };
  const noPeer = () => {
    warnedPeer = true;
    warnOnce(
      'IPMATCH_NO_PEER',
      `ipmatch: with trustedProxies, the '${key}' header counts only from a trusted peer, but this request ` +
        `came with no connection address, so its check has no client IP (signal ip_missing): ${noPeerAdvice}.`,
    );
  };
  return (req) => {
    const raw = rawOf(req);
    // An empty address is no peer either (a socket already closed).
    const peer = raw.socket?.remoteAddress || undefined;
    const value = raw.headers[key];
    if (trusted && !trusted(peer)) {
      if (peer === undefined) {
        if (!warnedPeer) noPeer();
        return undefined;
      }
      if (value !== undefined && !warnedPeer) untrustedPeer(peer, true);
      return peer;
    }
    const address = lastAddress(value, forwarded);
    if (address === undefined) {
      if (!warnedMissing) missing();
      return undefined;
    }
    if (!trusted && peer !== undefined && !warnedPeer) {
      if (normalizeIp(peer).public === (platformPeer === 'near')) untrustedPeer(peer, false);
    }
    return address;
  };
}
