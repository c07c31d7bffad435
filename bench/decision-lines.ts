/**
 * Synthetic decision-log lines, as decisionLog({ keySecret, ipPrefix: true }) writes them with velocity on,
 * spread over `days` days: the input of the report bench (a million lines) and of the page's screenshot in
 * docs/. Seeded, so that every run writes the same file.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { lineKeys } from '../src/observe/decision-line.js';
import { seeded } from '../src/testing/seeded.js';
import { type Event, OTP_ROUTE, pumpingNight, velocitySignals } from './decision-burst.js';

const ROUTES = ['/signup', '/signup', '/signup', '/users/:id/checkout', '/api/v1/login', OTP_ROUTE];
const HOMES = ['GB', 'US', 'FR', 'DE', 'IN', 'BR', 'ES', 'IT', 'NL', 'JP'];
const ELSEWHERE = ['NL', 'KR', 'CN', 'RU', 'NG', 'VN', 'US', 'RO'];
/** Each home's mobile range: the start of its numbers and the digits after it (US numbers: any line). */
const MOBILE: Record<string, [string, number]> = {
  GB: ['+447', 9],
  US: ['+1', 10],
  FR: ['+336', 8],
  DE: ['+4915', 9],
  IN: ['+919', 9],
  BR: ['+55119', 8],
  ES: ['+346', 8],
  IT: ['+393', 9],
  NL: ['+316', 8],
  JP: ['+8190', 8],
};
/** IP-nature networks as `ip.network` names them, each with its share of its kind and the countries it is in. */
const HOSTING: [string, number, string[]][] = [
  ['aws', 0.34, ['US', 'IE', 'DE', 'IN', 'JP', 'BR']],
  ['hetzner', 0.16, ['DE', 'FI', 'US']],
  ['ovh', 0.12, ['FR', 'CA', 'PL']],
  ['digitalocean', 0.1, ['US', 'NL', 'GB', 'SG']],
  ['gcp', 0.08, ['US', 'BE', 'NL']],
  ['azure', 0.07, ['US', 'NL', 'IE']],
  ['contabo', 0.05, ['DE', 'SG']],
  ['linode', 0.04, ['US', 'DE', 'JP']],
  ['vultr', 0.04, ['US', 'NL', 'JP']],
];
const VPN: [string, number, string[]][] = [
  ['mullvad', 0.55, ['SE', 'NL', 'DE', 'US', 'CH', 'GB']],
  ['pia', 0.45, ['US', 'GB', 'NL', 'CA', 'FR']],
];
const TOR_EXITS = ['DE', 'NL', 'US', 'FR', 'SE', 'CH', 'RO'];

const SEVERITY = { allow: 0, flag: 1, block: 2 } as const;
type Action = keyof typeof SEVERITY;
/** Signals' default actions (core/signals.ts); `sendsOtp` routes block the numbers that cannot take a code. */
const DEFAULTS: Record<string, Action> = {
  ip_missing: 'flag',
  hosting: 'flag',
  tor_exit: 'flag',
  vpn: 'flag',
  private_relay: 'allow',
  premium_rate_number: 'flag',
  shared_cost_number: 'flag',
  sms_incapable_number: 'allow',
  voip_number: 'allow',
  ip_velocity: 'flag',
  subnet_velocity: 'flag',
  phone_velocity: 'flag',
  prefix_burst: 'flag',
  velocity_unavailable: 'allow',
  sim_swapped: 'flag',
};
const OTP: Record<string, Action> = {
  premium_rate_number: 'block',
  shared_cost_number: 'block',
  sms_incapable_number: 'block',
  voip_number: 'flag',
};

const weighted = (next: () => number, list: [string, number, string[]][]) => {
  let r = next();
  for (const entry of list) {
    r -= entry[1];
    if (r < 0) return entry;
  }
  return list[list.length - 1]!;
};

/** An ordinary signup: mostly matches, 9% mismatches (more at night), some roaming, unknowns, errors and typos. */
function event(next: () => number, time: number, velocityDown: boolean): Event {
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  const route = pick(ROUTES);
  const phone = pick(HOMES);
  const hour = new Date(time).getUTCHours();
  const e: Event = {
    time,
    route,
    level: 'country',
    reason: 'country_match',
    signals: [],
    ipCountry: phone,
    ipNetwork: null,
    number: null,
    phoneCountry: phone,
    phoneType: phone === 'US' ? 'fixed_line_or_mobile' : 'mobile',
    roamingCountry: null,
    errorCode: null,
    velocity: undefined,
    ipPrefix: `${11 + Math.floor(next() * 180)}.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}.0/24`,
  };
  const [start, length] = MOBILE[phone]!;
  let rest = '';
  for (let i = 0; i < length; i++)
    rest += i === 0 && phone === 'US' ? 2 + Math.floor(next() * 8) : Math.floor(next() * 10);
  e.number = start + rest;
  // What kind of IP: iCloud Private Relay (allowed), hosting, VPN, Tor; each keeps its own country.
  const n = next();
  if (n < 0.05) {
    e.signals.push('private_relay');
    e.ipNetwork = 'icloud-private-relay';
  } else if (n < 0.053) {
    e.signals.push('tor_exit');
    e.ipNetwork = 'tor';
    e.ipCountry = pick(TOR_EXITS);
  } else if (n < 0.07) {
    const [name, , where] = weighted(next, VPN);
    e.signals.push(...(next() < 0.3 ? ['vpn', 'hosting'] : ['vpn']));
    e.ipNetwork = name;
    e.ipCountry = pick(where);
  } else if (n < 0.1) {
    const [name, , where] = weighted(next, HOSTING);
    e.signals.push('hosting');
    e.ipNetwork = name;
    e.ipCountry = pick(where);
  }
  // The number's kind: a few fixed lines and VoIP; premium-rate and shared-cost mostly where codes are sent.
  const t = next();
  const otp = route === OTP_ROUTE;
  const kind: [string, string | null] | undefined =
    t < 0.04
      ? ['fixed_line', null]
      : t < 0.05
        ? ['voip', 'voip_number']
        : t < 0.052
          ? ['toll_free', 'sms_incapable_number']
          : t < (otp ? 0.062 : 0.053)
            ? ['premium_rate', 'premium_rate_number']
            : t < (otp ? 0.066 : 0.054)
              ? ['shared_cost', 'shared_cost_number']
              : undefined;
  if (kind) {
    e.phoneType = kind[0];
    if (kind[1] !== null) e.signals.push(kind[1]);
  }
  const r = next();
  const mismatchShare = hour < 6 ? 0.16 : 0.08;
  if (e.ipCountry !== phone) {
    e.level = 'mismatch';
    e.reason = 'country_mismatch';
  } else if (r < mismatchShare) {
    e.level = 'mismatch';
    e.reason = 'country_mismatch';
    e.ipCountry = pick(ELSEWHERE.filter((c) => c !== phone));
  } else if (r < mismatchShare + 0.02) {
    e.reason = 'roaming_match';
    e.ipCountry = pick(ELSEWHERE.filter((c) => c !== phone));
    e.roamingCountry = e.ipCountry;
  } else if (r < mismatchShare + 0.05 && e.ipNetwork === null) {
    [e.level, e.reason, e.ipCountry, e.ipPrefix] = ['unknown', 'ip_not_public', null, null];
    // The login route reads the client IP from a header: a request without it has none at all.
    if (route === '/api/v1/login' && next() < 0.2) e.signals.unshift('ip_missing');
  } else if (r < mismatchShare + 0.055) {
    [e.level, e.reason] = ['unknown', pick(['lookup_timeout', 'lookup_failed'])];
    e.errorCode = e.reason === 'lookup_timeout' ? 'lookup_timeout' : 'provider_unavailable';
  } else if (r < mismatchShare + 0.065) {
    [e.level, e.reason, e.phoneCountry, e.phoneType, e.number] = [
      'unknown',
      'phone_invalid',
      null,
      null,
      null,
    ];
    e.signals = e.signals.filter((s) => !s.endsWith('_number'));
  } else if (r < mismatchShare + 0.067) {
    e.signals.push('sim_swapped');
  }
  // Velocity: a number per address mostly; households, offices and carrier NAT share some (false alarms).
  if (velocityDown) {
    e.signals.push('velocity_unavailable');
  } else {
    const v = next();
    const ip = v < 0.9 ? 1 : v < 0.97 ? 2 : v < 0.99 ? 3 : v < 0.997 ? 4 : 5;
    const w = next();
    const subnet =
      ip +
      (w < 0.7
        ? 0
        : w < 0.9
          ? 1 + Math.floor(next() * 2)
          : w < 0.995
            ? 3 + Math.floor(next() * 4)
            : 8 + Math.floor(next() * 5));
    const countries = e.phoneCountry === null ? 0 : e.roamingCountry === null ? 1 : 2;
    const prefix = e.number === null ? 0 : next() < 0.99 ? 1 : 2;
    // An address that is not public is not counted.
    e.velocity = e.reason === 'ip_not_public' ? [0, 0, countries, prefix] : [ip, subnet, countries, prefix];
    const fired = velocitySignals(e.velocity);
    const simSwap = e.signals.indexOf('sim_swapped');
    e.signals.splice(simSwap < 0 ? e.signals.length : simSwap, 0, ...fired);
  }
  return e;
}

const keys = lineKeys('synthetic-week-key-secret');

/** The line decisionLog writes for an event, in observe mode: a block is logged as the flag it was answered with. */
function line(next: () => number, e: Event): string {
  const mismatch = e.route === '/users/:id/checkout' ? 'flag' : 'block';
  let policy: Action = e.level === 'mismatch' ? mismatch : 'allow';
  for (const s of e.signals) {
    const a = (e.route === OTP_ROUTE ? OTP[s] : undefined) ?? DEFAULTS[s] ?? 'flag';
    if (SEVERITY[a] > SEVERITY[policy]) policy = a;
  }
  const out: Record<string, unknown> = {
    time: new Date(e.time).toISOString(),
    route: e.route,
    method: 'POST',
    action: policy === 'block' ? 'flag' : policy,
    policyAction: policy,
    matchLevel: e.level,
    reason: e.reason,
    signals: e.signals,
    ipCountry: e.ipCountry,
    ipNetwork: e.ipNetwork,
    phoneCountry: e.phoneCountry,
    phoneType: e.phoneType,
    roamingCountry: e.roamingCountry,
    provider: 'local',
    cached: false,
    errorCode: e.errorCode,
    durationMs: Number((0.02 + next() * 0.1).toFixed(3)),
  };
  if (e.velocity) {
    const [ip, subnet, phoneCountries, prefix] = e.velocity;
    out.velocity = { ip, subnet, phoneCountries, prefix };
  }
  if (e.number !== null) {
    out.phoneKey = keys.phone(e.number);
    out.prefixKey = keys.prefix(e.number);
  }
  if (e.ipPrefix !== null) out.ipPrefix = e.ipPrefix;
  return `${JSON.stringify(out)}\n`;
}

/**
 * Writes `count` lines over `days` days ending 2026-11-29, in time order, and resolves when they are on disk.
 * Among them: a six-minute velocity-store outage on the third day and, with 5 days or more, a pumping night
 * (decision-burst.ts) at 02:10 UTC on the fifth.
 */
export async function writeDecisionLines(file: string, count: number, days = 7, seed = 7): Promise<void> {
  const next = seeded(seed);
  const end = Date.UTC(2026, 10, 29);
  const start = end - days * 86_400_000;
  const night = days >= 5 ? pumpingNight(seeded(seed + 1), start + 4 * 86_400_000 + 7_800_000) : [];
  const outage = start + 2 * 86_400_000 + 50_400_000;
  const ordinary = Math.max(0, count - night.length);
  const out = createWriteStream(file);
  let chunk = '';
  let burst = 0;
  for (let i = 0; i < ordinary; i++) {
    const time = start + Math.floor(((end - start) * i) / ordinary);
    while (burst < night.length && night[burst]!.time <= time) chunk += line(next, night[burst++]!);
    chunk += line(next, event(next, time, time >= outage && time < outage + 360_000));
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  while (burst < night.length) chunk += line(next, night[burst++]!);
  out.end(chunk);
  await once(out, 'close');
}
