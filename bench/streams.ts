import examples from 'libphonenumber-js/examples.mobile.json';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { type Network, networksByCountry, v4 } from './geo-networks.js';

/** One signup: the phone typed and the client IP (sent as X-Forwarded-For from loopback). */
export interface Signup {
  phone: string;
  ip: string;
}

export interface Streams {
  /** 8 phones × 8 IPs, every combination: 64 signups that repeat. */
  hot: readonly Signup[];
  /** The k-th signup of the cold stream: every k gives a new phone and a new IP (k below `coldCapacity`). */
  cold(k: number): Signup;
  /** How many distinct signups `cold` can give. */
  coldCapacity: number;
  /** Regions the cold stream's phones come from (each with 20 000+ IPv4 addresses in the GeoIP data). */
  regions: readonly string[];
}

/** One signup in 8 of either stream sends an IP from another country than the phone's: a mismatch, blocked. */
const MISMATCH_EVERY = 8;
/** The cold stream varies the last four digits of each region's example mobile number. */
const VARIANTS = 10_000;

const e164 = (national: string, region: string) =>
  parsePhoneNumberFromString(national, region as never)?.number as string | undefined;

/** A country's addresses as one range: the j-th is distinct for every j below `total`, and spread across it. */
interface Space {
  networks: readonly Network[];
  /** Addresses before each network. */
  before: readonly number[];
  total: number;
}

function space(networks: readonly Network[]): Space {
  const before: number[] = [];
  let total = 0;
  for (const n of networks) {
    before.push(total);
    total += n.size;
  }
  return { networks, before, total };
}

// A prime larger than any country's address count (the US holds about 1.6e9): j → j·STRIDE mod total is then
// a permutation of the country's addresses, so that consecutive j land in different networks.
const STRIDE = 2_147_483_647;

function host(s: Space, j: number): string {
  // Exact in doubles: j stays below 2·VARIANTS, so j·STRIDE is below 2^53.
  const index = ((j + 1) * STRIDE) % s.total;
  let lo = 0;
  let hi = s.networks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (s.before[mid]! <= index) lo = mid;
    else hi = mid - 1;
  }
  return v4(s.networks[lo]!.start + index - s.before[lo]!);
}

/**
 * The request streams of the route-overhead bench, deterministic from the bundled data.
 * - hot: 8 GB mobile numbers × 8 IPs (7 in GB, 1 in DE), so 7 in 8 signups match and 1 in 8 is blocked.
 * - cold: the phones cycle through every region with an example mobile number in libphonenumber-js and
 *   IPv4 networks in the GeoIP data, each time with new last four digits; the IP is a new address of the
 *   phone's country, except for 1 signup in 8, which takes an address of another region's country.
 */
export function buildStreams(): Streams {
  const spaces = new Map([...networksByCountry()].map(([country, list]) => [country, space(list)]));
  const bases: { region: string; number: string; ips: Space }[] = [];
  for (const [region, national] of Object.entries(examples as Record<string, string>)) {
    const number = e164(national, region);
    const ips = spaces.get(region);
    // Only regions whose example parses back to the region itself, so that the planned match holds, and with
    // addresses enough for every variant to get its own.
    if (!number || parsePhoneNumberFromString(number)?.country !== region) continue;
    if (!ips || ips.total < 2 * VARIANTS) continue;
    bases.push({ region, number, ips });
  }
  const R = bases.length;
  const gb = spaces.get('GB')!;
  const hotPhones = Array.from({ length: 8 }, (_, i) => `+44740012345${i}`);
  const hotIps = [...Array.from({ length: 7 }, (_, i) => host(gb, i * 37)), host(spaces.get('DE')!, 0)];
  const hot = hotPhones.flatMap((phone) => hotIps.map((ip) => ({ phone, ip })));

  function cold(k: number): Signup {
    const r = k % R;
    const v = Math.floor(k / R) % VARIANTS;
    const base = bases[r]!;
    const tail = String((v * 7919) % VARIANTS).padStart(4, '0');
    const phone = base.number.slice(0, -4) + tail;
    const mismatch = k % MISMATCH_EVERY === MISMATCH_EVERY - 1;
    // Own-country addresses take even indexes and borrowed ones odd, so that no address repeats.
    const ips = mismatch ? bases[(r + (R >> 1)) % R]!.ips : base.ips;
    const ip = host(ips, 2 * v + (mismatch ? 1 : 0));
    return { phone, ip };
  }
  return { hot, cold, coldCapacity: R * VARIANTS, regions: bases.map((b) => b.region) };
}
