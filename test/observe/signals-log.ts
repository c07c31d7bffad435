/**
 * A decision log written by a real decisionLog from real decisions, with a signal of every family a local core
 * gives and a pumping burst: the fixture of the report's signal and velocity sections, with its figures counted
 * by hand below.
 */
import { createIpMatch, decisionLog } from 'ipmatch';
import { GB_IP, GB_PHONE, recorder, US_PHONE } from '../helpers/adapter-suite.js';

export const LOG_SECRET = 'a-report-fixture-secret-0123';
/** A Tor exit and an AWS address of the bundled IP-nature data. */
const TOR = '204.8.96.141';
const AWS = '3.2.48.1';
/** A GB address alone in its /24 here: the burst's. */
const BURST_IP = '86.1.1.1';
/** Six numbers of one block of 1,000 (+447400555): the 4th to 6th are ip_velocity, the 5th and 6th prefix_burst. */
export const BURST = Array.from({ length: 6 }, (_, i) => `+44740055500${i}`);

export const CHECKS: readonly (readonly [phone: string, ip: string])[] = [
  [US_PHONE, TOR], // tor_exit; fixed_line_or_mobile
  [GB_PHONE, AWS], // hosting
  ['+449098790000', GB_IP], // premium_rate_number
  ['+33612345678', GB_IP], // country_not_allowed (FR is denied), and a mismatch the policy blocks
  ...BURST.map((phone) => [phone, BURST_IP] as const),
];

/** What the report must find in that log, counted by hand from CHECKS. */
export const EXPECTED = {
  decisions: 10,
  families: { client_ip: 0, ip_nature: 2, number: 2, velocity: 3, sim_swap: 0 },
  // [signal, decisions, what blocking it would add]: observe mode, the default policy (a mismatch is block).
  // By family, then most first, ties by name.
  signals: [
    ['hosting', 1, 1],
    ['tor_exit', 1, 1],
    ['country_not_allowed', 1, 0],
    ['premium_rate_number', 1, 1],
    ['ip_velocity', 3, 3],
    ['prefix_burst', 2, 2],
  ],
  networks: [
    ['aws', 1],
    ['tor', 1],
  ],
  phoneTypes: [
    ['mobile', 8],
    ['fixed_line_or_mobile', 1],
    ['premium_rate', 1],
  ],
  // Buckets 0, 1, 2, 3, 4–5, 6–10, >10. Per IP: Tor, AWS 1 each; GB_IP 1 then 2; the burst 1 to 6. The same per
  // subnet (each IP alone in its /24). Every number seen from one country. Blocks: four of one number, the burst's 1 to 6.
  velocity: {
    ip: [0, 4, 2, 1, 2, 1, 0],
    subnet: [0, 4, 2, 1, 2, 1, 0],
    phoneCountries: [0, 10, 0, 0, 0, 0, 0],
    prefix: [0, 5, 1, 1, 2, 1, 0],
  },
  topBlockCount: 6,
} as const;

/** Writes the log to `file` through decisionLog with a keySecret, as an observe-mode app would. */
export async function writeSignalsLog(file: string): Promise<void> {
  const core = createIpMatch({
    mode: 'observe',
    phoneCountries: { deny: ['FR'] },
    logger: recorder().logger,
    onDecision: decisionLog({ destination: file, keySecret: LOG_SECRET }),
  });
  for (const [phone, ip] of CHECKS) await core.check({ phone, ip });
  await core.close();
}
