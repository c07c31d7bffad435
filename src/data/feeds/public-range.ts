/** Whether a feed range holds only public unicast addresses: ipaddr.js's special ranges, and IPv6 beyond 2000::/3. */
import ipaddr from 'ipaddr.js';

type Block = readonly [first: bigint, last: bigint];
type SpecialEntry = [ipaddr.IPv4 | ipaddr.IPv6, number];
/** ipaddr.js's table behind `range()`, on each class's prototype (its typings leave it out). */
type WithTable = { SpecialRanges: Record<string, SpecialEntry | SpecialEntry[]> };

function value(bytes: number[]): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/**
 * Every block that ipaddr.js's `range()` names other than `unicast` (private, loopback, link-local, CGNAT,
 * documentation, benchmarking, multicast, reserved, 6to4, Teredo, ::ffff: mapped, unique-local, ORCHID…), read
 * from its own table so that the two never disagree. ipaddr.js keeps one block as `[addr, bits]` and several as
 * a list of them.
 */
function specialBlocks(proto: unknown, width: number): Block[] {
  const blocks: Block[] = [];
  for (const entry of Object.values((proto as WithTable).SpecialRanges)) {
    const list = Array.isArray(entry[0]) ? (entry as SpecialEntry[]) : [entry as SpecialEntry];
    for (const [addr, bits] of list) {
      const first = value(addr.toByteArray());
      blocks.push([first, first | ((1n << BigInt(width - bits)) - 1n)]);
    }
  }
  return blocks;
}

const V6_MAX = (1n << 128n) - 1n;

const NOT_PUBLIC: Readonly<Record<4 | 6, readonly Block[]>> = {
  4: specialBlocks(ipaddr.IPv4.prototype, 32),
  // Only 2000::/3 is allocated as global unicast; ipaddr.js calls much of the rest 'unicast' (as normalizeIp
  // in src/core/ip.ts also holds).
  6: [...specialBlocks(ipaddr.IPv6.prototype, 128), [0n, (0x2000n << 112n) - 1n], [0x4000n << 112n, V6_MAX]],
};

/**
 * True when no address from `first` to `last` is private, loopback, link-local, documentation, CGNAT,
 * multicast, reserved or otherwise not public unicast: a range that is even partly such is not a provider's
 * (a feed lists it by mistake, as Vultr's geofeed lists the three documentation /24s), and no client IP the
 * middleware looks up is ever there.
 */
export function isPublicRange(family: 4 | 6, first: bigint, last: bigint): boolean {
  for (const [bFirst, bLast] of NOT_PUBLIC[family]) if (first <= bLast && bFirst <= last) return false;
  return true;
}
