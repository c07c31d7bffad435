/** Which client IPs count per IP and per subnet: public ones outside `velocity.allow` (offices, test rigs). */
import ipaddr from 'ipaddr.js';
import type { AllowRange } from '../../core/velocity-options.js';

/**
 * A test of `address` (canonical, as the check normalised it) against the allow list, parsed once at
 * construction by ipaddr.js. Without a list it costs nothing; with one, it parses each address once.
 */
export function allowMatcher(ranges: readonly AllowRange[]): (address: string) => boolean {
  if (ranges.length === 0) return () => false;
  return (address) => {
    let ip: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      ip = ipaddr.parse(address);
    } catch {
      return false;
    }
    const kind = ip.kind();
    for (const range of ranges) if (range[0].kind() === kind && ip.match(range)) return true;
    return false;
  };
}
