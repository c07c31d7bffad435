/** IP normalisation: canonical text, IPv4-mapped IPv6 unwrapped, and whether the address is public. */
import ipaddr from 'ipaddr.js';

/** A client IP after normalisation. */
export interface NormalizedIp {
  /** Canonical form (dotted-quad IPv4, RFC 5952 IPv6, IPv4-mapped unwrapped); null when unparseable. */
  address: string | null;
  /** true only for globally routable unicast: only such an address is ever looked up or sent upstream. */
  public: boolean;
}

const UNPARSEABLE: NormalizedIp = Object.freeze({ address: null, public: false });

/**
 * Strict dotted-quad IPv4 from `start` to the end of `s`, as an unsigned 32-bit number, or -1.
 * The same language as ipaddr.js's `IPv4.isValidFourPartDecimal` (no octal, hex, shorthand or leading
 * zeros), written by hand because this runs per request and ipaddr.js parses twice and allocates.
 */
function parseV4(s: string, start: number): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && part === 0) return -1; // a leading zero reads as octal elsewhere
      part = part * 10 + (c - 48);
      if (part > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + part;
}

/**
 * Whether an IPv4 address is globally routable unicast: the complement of ipaddr.js 2.5's special ranges
 * (test/core/ip.test.ts checks this table against `range() === 'unicast'`).
 */
function isPublicV4(v: number): boolean {
  const a = v >>> 24;
  const b = (v >>> 16) & 0xff;
  const c = (v >>> 8) & 0xff;
  switch (a) {
    case 0: // this network
    case 10: // RFC 1918
    case 127: // loopback
      return false;
    case 100: // CGNAT 100.64/10
      return (b & 0xc0) !== 64;
    case 169: // link-local
      return b !== 254;
    case 172: // RFC 1918 172.16/12
      return (b & 0xf0) !== 16;
    case 192:
      if (b === 168) return false; // RFC 1918
      if (b === 0) return c !== 0 && c !== 2; // IETF protocol assignments, TEST-NET-1
      if (b === 88) return c !== 99; // 6to4 relay anycast
      if (b === 175) return c !== 48; // AS112
      if (b === 31) return c !== 196; // AS112
      if (b === 52) return c !== 193; // AMT
      return true;
    case 198: // benchmarking 198.18/15, TEST-NET-2
      return (b & 0xfe) !== 18 && !(b === 51 && c === 100);
    case 203: // TEST-NET-3
      return !(b === 0 && c === 113);
    default:
      return a < 224; // multicast 224/4, reserved 240/4, broadcast
  }
}

/** The last IPv4 address normalised, and its number: see `ipv4Value`. */
let lastAddress: string | undefined;
let lastValue = -1;

function fromV4(address: string, v: number): NormalizedIp {
  lastAddress = address;
  lastValue = v;
  return { address, public: isPublicV4(v) };
}

/** The dotted quad of an IPv4 address given as an unsigned 32-bit number: the inverse of `ipv4Value`. */
export function dottedQuad(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/**
 * A canonical IPv4 address (a strict dotted quad) as an unsigned 32-bit number, or -1 for anything else; the
 * GeoIP lookup walks its tree with the number. The address `normalizeIp` returned last is answered without a
 * second parse: a check looks up the address it has just normalised, and the parse (about 60 ns, branchy over
 * each character) cost more than the rest of a warm GeoIP lookup.
 */
export function ipv4Value(address: string): number {
  return address === lastAddress ? lastValue : parseV4(address, 0);
}

/** RFC 6052's well-known NAT64 prefix 64:ff9b::/96 (not the local-use 64:ff9b:1::/48). */
function isWellKnownNat64(p: readonly number[]): boolean {
  return p[0] === 0x64 && p[1] === 0xff9b && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0;
}

function normalizeV6(s: string): NormalizedIp {
  // A zone id (fe80::1%eth0) only names a local interface: no remote client has one.
  if (s.indexOf('%') !== -1) return UNPARSEABLE;
  let text = s;
  if (s.indexOf('.') !== -1) {
    // ipaddr.js reads the embedded IPv4 leniently (::ffff:010.1.1.1 as 10.1.1.1): insist on strict form.
    const colon = s.lastIndexOf(':');
    if (parseV4(s, colon + 1) < 0) return UNPARSEABLE;
    // ipaddr.js reads IPv4-compatible ::a.b.c.d as ::ffff:a.b.c.d; '0::' keeps it the address it names.
    if (colon === 1) text = `0${s}`;
  }
  let ip: ipaddr.IPv6;
  try {
    ip = ipaddr.IPv6.parse(text);
  } catch {
    return UNPARSEABLE;
  }
  const p = ip.parts;
  const range = ip.range();
  // ::ffff:a.b.c.d is how dual-stack sockets report IPv4 clients. 64:ff9b::a.b.c.d is how an
  // IPv6-only site behind SIIT/NAT64 (RFC 6052, 7755) sees an IPv4 client; the prefix never holds
  // anything else, so the embedded IPv4 is the client.
  if (range === 'ipv4Mapped' || isWellKnownNat64(p)) {
    const v = (p[6]! * 65536 + p[7]!) >>> 0;
    return fromV4(dottedQuad(v), v);
  }
  // Only 2000::/3 is allocated as global unicast; ipaddr.js calls much of ::/8 (IPv4-compatible,
  // NAT64 local-use) and 100::/8 beyond its discard /64 'unicast'.
  return { address: ip.toRFC5952String(), public: (p[0]! & 0xe000) === 0x2000 && range === 'unicast' };
}

/**
 * Canonical form of a client IP, and whether it is a globally routable unicast address.
 *
 * - Non-strings, empty strings, strings over 64 characters and anything unparseable give
 *   `{ address: null, public: false }`. Surrounding whitespace is ignored.
 * - IPv4 must be a strict dotted quad: no octal, hex or `1.2.3` shorthand.
 * - IPv6 with a zone id (`fe80::1%eth0`) is unparseable.
 * - `::ffff:a.b.c.d` (either notation) and NAT64 `64:ff9b::a.b.c.d` unwrap to `a.b.c.d`.
 * - Not public: private, loopback, link-local, CGNAT, multicast, unspecified, broadcast, documentation,
 *   benchmarking, reserved, 6to4 relay, unique-local, Teredo, 6to4, ORCHID and every IPv6 outside 2000::/3.
 */
export function normalizeIp(raw: unknown): NormalizedIp {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 64) return UNPARSEABLE;
  const s = raw.trim();
  if (s.indexOf(':') === -1) {
    const v = parseV4(s, 0);
    return v < 0 ? UNPARSEABLE : fromV4(s, v);
  }
  // Fast path for the dual-stack form Node reports for IPv4 clients: no parse of the IPv6 part.
  if (s.length > 7 && s.startsWith('::ffff:')) {
    const v = parseV4(s, 7);
    if (v >= 0) return fromV4(s.slice(7), v);
  }
  return normalizeV6(s);
}
