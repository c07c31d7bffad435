/**
 * `npm run demo`: starts the signup example in-process on a free port and sends it real HTTP signups,
 * then prints what ipmatch decided for each. Offline: no account, no network beyond loopback.
 */
import type { AddressInfo } from 'node:net';
import type { IpMatchDecision } from 'ipmatch';
import { createApp } from './express-signup.js';

const signups = [
  { what: 'GB phone, GB IP', phone: '+447400123456', ip: '81.2.69.160' },
  { what: 'GB phone, KR IP', phone: '+44 7700 900001', ip: '211.234.0.1' },
  { what: 'US phone, US IPv6', phone: '+1 202-555-0123', ip: '2001:4860:4860::8888' },
  { what: 'GB phone, private IP', phone: '+447400123456', ip: '192.168.1.20' },
  // From the bundled IP-nature data: an AWS range that GeoIP places in GB, and an iCloud Private Relay egress
  // that GeoIP places in the US (Cloudflare) but Apple's list declares Australian.
  { what: 'GB phone, AWS IP', phone: '+447400123456', ip: '3.2.48.1' },
  { what: 'AU phone, Private Relay', phone: '+61412345678', ip: '104.28.137.110' },
  { what: 'invalid phone', phone: 'call me maybe', ip: '81.2.69.160' },
];

const decisions: IpMatchDecision[] = [];
const server = createApp({ onDecision: (d) => decisions.push(d) }).listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address() as AddressInfo;

const rows: string[][] = [];
for (const s of signups) {
  const before = decisions.length;
  const res = await fetch(`http://127.0.0.1:${port}/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': s.ip },
    body: JSON.stringify({ phone: s.phone }),
  });
  const body = (await res.json()) as { error?: string };
  const d = decisions[before];
  rows.push([
    s.what,
    s.phone,
    s.ip,
    d?.ip.country ?? '-',
    d?.phone.country ?? '-',
    d ? `${d.matchLevel} (${d.reason})` : '-',
    d && d.signals.length > 0 ? `${d.signals.join(', ')} (${d.ip.network ?? '-'})` : '-',
    // The route rejects an invalid phone before the policy's 'allow' could let it through.
    d?.reason === 'phone_invalid' && res.status === 400 ? 'reject' : (d?.action ?? '-'),
    `${res.status} ${body.error ?? 'created'}`,
  ]);
}
server.close();

const head = [
  'signup',
  'phone',
  'IP',
  'IP country',
  'phone country',
  'match',
  'signals',
  'action',
  'HTTP answer',
];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(line(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
console.log(
  '\nOffline: GeoIP data from ip-location-db (CC BY 4.0, NRO), the bundled IP-nature lists (docs/ip-signals.md) and\n' +
    'libphonenumber-js; no network call was made.',
);
