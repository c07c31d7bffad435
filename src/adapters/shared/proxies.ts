/** Compiles `trustedProxies` (IPs, CIDRs, Express's named ranges) into a test of one address. */
import ipaddr from 'ipaddr.js';
import { normalizeIp } from '../../core/ip.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

// The same names Express's `trust proxy` accepts, so that one vocabulary works in both places.
const NAMED: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

function parseRange(entry: string): Range | undefined {
  try {
    if (entry.includes('/')) {
      if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(entry) && !ipaddr.IPv6.isValidCIDR(entry)) return undefined;
      const [addr, bits] = ipaddr.parseCIDR(entry);
      // '::ffff:10.0.0.0/104' means 10.0.0.0/8: addresses are compared after unwrapping IPv4-mapped ones.
      if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
        return [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96];
      }
      return [addr, bits];
    }
    if (!ipaddr.IPv4.isValidFourPartDecimal(entry) && !ipaddr.IPv6.isValid(entry)) return undefined;
    const addr = ipaddr.process(entry);
    return [addr, addr.kind() === 'ipv4' ? 32 : 128];
  } catch {
    return undefined;
  }
}

/** true when `entry` can be a trusted proxy: an IP, a CIDR, or 'loopback' | 'linklocal' | 'uniquelocal'. */
export function isProxyEntry(entry: string): boolean {
  return Object.hasOwn(NAMED, entry) || parseRange(entry) !== undefined;
}

/**
 * Compiles trusted proxies once into a test of one address (a socket peer or an X-Forwarded-For entry).
 * Only a strict address can be trusted: no octal, hex or shorthand IPv4 (`0x7f.1`), no zone id, nothing
 * with a port; IPv4-mapped addresses (`::ffff:10.1.2.3`) match IPv4 ranges. Answers are memoised per address:
 * a fleet has few proxies, and the memo is bounded.
 */
export function compileTrustedProxies(entries: readonly string[]): (address: string | undefined) => boolean {
  const ranges: Range[] = [];
  for (const entry of entries) {
    for (const one of NAMED[entry] ?? [entry]) {
      const range = parseRange(one);
      if (!range) throw new TypeError(`not an IP or CIDR: ${JSON.stringify(entry)}`);
      ranges.push(range);
    }
  }
  const memo = new Map<string, boolean>();
  const test = (address: string): boolean => {
    // normalizeIp is the core's strict grammar; ipaddr.js then unwraps only IPv4-mapped, not NAT64, addresses.
    if (normalizeIp(address).address === null) return false;
    const addr = ipaddr.process(address.trim());
    return ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
  };
  return (address) => {
    if (!address) return false;
    let hit = memo.get(address);
    if (hit === undefined) {
      hit = test(address);
      if (memo.size >= 1024) memo.clear();
      memo.set(address, hit);
    }
    return hit;
  };
}
