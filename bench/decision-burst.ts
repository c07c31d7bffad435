/**
 * The SMS-pumping night of the synthetic week: one server cycling numbers on the code route, then one block of
 * numbers from rotating addresses, with the velocity counts a default `velocity` config would give them.
 */

/** What a line of the synthetic log is made of, before its keys and policy are worked out. */
export interface Event {
  time: number;
  route: string;
  level: 'country' | 'mismatch' | 'unknown';
  reason: string;
  signals: string[];
  ipCountry: string | null;
  ipNetwork: string | null;
  /** The E.164 number: hashed into phoneKey and prefixKey, never written. */
  number: string | null;
  phoneCountry: string | null;
  phoneType: string | null;
  roamingCountry: string | null;
  errorCode: string | null;
  /** ip, subnet, phoneCountries, prefix; undefined when velocity was not counted (its store was down). */
  velocity: [number, number, number, number] | undefined;
  ipPrefix: string | null;
}

/** The code-sending route (`sendsOtp: true`): the one pumpers aim at. */
export const OTP_ROUTE = '/auth/otp/send';

/** Velocity's defaults (ip max 3, subnet 10, countries 2, prefix 4) and their counters' caps (capFor: 2·max+1, ≥ 10). */
const MAX = [3, 10, 2, 4] as const;
const CAP = [10, 21, 10, 10] as const;
const VELOCITY_SIGNAL = ['ip_velocity', 'subnet_velocity', 'phone_velocity', 'prefix_burst'] as const;

/** The velocity signals of four counts, as verdictFor() gives them; the counts are clamped to their caps. */
export function velocitySignals(counts: [number, number, number, number]): string[] {
  const out: string[] = [];
  for (let i = 0; i < 4; i++) {
    counts[i] = Math.min(counts[i]!, CAP[i]!);
    if (counts[i]! > MAX[i]!) out.push(VELOCITY_SIGNAL[i]!);
  }
  return out;
}

const digits = (next: () => number, n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(next() * 10);
  return s;
};

/** Residential-proxy exits: countries the rotating addresses of the second wave come from. */
const PROXY_COUNTRIES = ['US', 'BR', 'IN', 'VN', 'ID', 'TR', 'RU', 'UA', 'PL', 'MX', 'EG', 'PH'];

/**
 * The night's events, in time order, starting at `start`. Wave one (12 minutes): three addresses of one
 * Hetzner /24 each send codes to numbers across a few Kyrgyz mobile blocks: each address's count climbs past
 * 3 (`ip_velocity`), the /24's past 10 (`subnet_velocity`). Wave two (an hour): one block of 1,000 numbers from
 * a different proxy address each time: the block's count climbs past 4 (`prefix_burst`), and numbers sent to
 * again from other countries pass 2 countries (`phone_velocity`).
 */
export function pumpingNight(next: () => number, start: number): Event[] {
  const events: Event[] = [];
  const base = (time: number, number: string, ipCountry: string, ipNetwork: string | null): Event => ({
    time,
    route: OTP_ROUTE,
    level: ipCountry === 'KG' ? 'country' : 'mismatch',
    reason: ipCountry === 'KG' ? 'country_match' : 'country_mismatch',
    signals: ipNetwork === null ? [] : ['hosting'],
    ipCountry,
    ipNetwork,
    number,
    phoneCountry: 'KG',
    phoneType: 'mobile',
    roamingCountry: null,
    errorCode: null,
    velocity: undefined,
    ipPrefix: null,
  });
  // Wave one: 3 addresses × 20 numbers over 12 minutes, numbers spread over 6 blocks.
  const blocks = Array.from({ length: 6 }, () => `+99670${digits(next, 4)}`);
  const perIp = [0, 0, 0];
  const perBlock = blocks.map(() => 0);
  for (let i = 0; i < 60; i++) {
    const host = i % 3;
    const b = Math.floor(next() * blocks.length);
    perIp[host]!++;
    perBlock[b]!++;
    const e = base(start + i * 12_000, `${blocks[b]}${digits(next, 3)}`, 'DE', 'hetzner');
    e.velocity = [perIp[host]!, i + 1, 1, perBlock[b]!];
    e.signals.push(...velocitySignals(e.velocity));
    e.ipPrefix = '88.198.47.0/24';
    events.push(e);
  }
  // Wave two: 150 requests over an hour to one block, each from a new proxy exit; a fifth reuse a number.
  const block = `+99677${digits(next, 4)}`;
  const used: { number: string; countries: Set<string> }[] = [];
  for (let i = 0; i < 150; i++) {
    const country = PROXY_COUNTRIES[Math.floor(next() * PROXY_COUNTRIES.length)]!;
    const again = used.length > 5 && next() < 0.2 ? used[Math.floor(next() * used.length)]! : undefined;
    const target = again ?? { number: `${block}${digits(next, 3)}`, countries: new Set<string>() };
    if (!again) used.push(target);
    target.countries.add(country);
    const hosted = next() < 0.1 ? 'digitalocean' : null;
    const e = base(start + 900_000 + i * 24_000, target.number, country, hosted);
    e.velocity = [1, 1 + Math.floor(next() * 2), target.countries.size, used.length];
    e.signals.push(...velocitySignals(e.velocity));
    e.ipPrefix = `${11 + Math.floor(next() * 180)}.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}.0/24`;
    events.push(e);
  }
  return events;
}
