import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIpMatch, type DecisionLine, decisionLog } from 'ipmatch';
import { afterAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { lineKeys } from '../../src/observe/decision-line.js';
import { ReportBuilder } from '../../src/observe/report/aggregate.js';
import type { Report } from '../../src/observe/report/figures.js';
import { reportPage } from '../../src/observe/report/html.js';
import { parseLine } from '../../src/observe/report/parse-line.js';
import { formatReport } from '../../src/observe/report/terminal.js';
import { BURST, CHECKS, EXPECTED, LOG_SECRET, writeSignalsLog } from './signals-log.js';

const dir = mkdtempSync(join(tmpdir(), 'ipmatch-report-signals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Addresses of the bundled IP-nature data: a Tor exit, an AWS range, a Mullvad server in hosting space.
const TOR = '204.8.96.141';
const AWS = '3.2.48.1';
const MULLVAD = '37.19.200.130';

describe('ipmatch report: the IP-nature signals and networks', () => {
  test('counts per signal and per network, and what blocking each signal would add', async () => {
    const file = join(dir, 'decisions.ndjson');
    // Observe mode, with Tor already blocked by the policy: its what-if adds nothing.
    const core = createIpMatch({
      mode: 'observe',
      policy: { tor_exit: 'block' },
      onDecision: decisionLog({ destination: file }),
    });
    const checks: [string, string][] = [
      ['+12025550123', TOR],
      ['+12025550123', TOR],
      ['+447400123456', AWS],
      ['+12025550123', MULLVAD],
      ['+447400123456', '81.2.69.160'],
    ];
    for (const [phone, ip] of checks) await core.check({ phone, ip });
    await core.close();
    const text = readFileSync(file, 'utf8');
    for (const [, ip] of checks) expect(text).not.toContain(ip);
    const builder = new ReportBuilder();
    builder.source(file);
    for (const line of text.split('\n').filter(Boolean)) {
      const d = parseLine(line);
      if (typeof d === 'string') throw new Error(d);
      builder.add(d);
    }
    const r = builder.result();
    const share = (n: number) => expect.closeTo(n / 5, 6);
    const family = 'ip_nature';
    expect(r.signals).toEqual([
      { signal: 'hosting', family, count: 2, ifBlocked: 2, ifBlockedShare: share(2) },
      { signal: 'tor_exit', family, count: 2, ifBlocked: 0, ifBlockedShare: share(0) },
      { signal: 'vpn', family, count: 1, ifBlocked: 1, ifBlockedShare: share(1) },
    ]);
    // The Tor exits, the AWS address and the Mullvad server: four decisions with an IP-nature signal.
    expect(r.families.find((f) => f.family === family)?.decisions).toBe(4);
    expect(r.networks).toEqual([
      { network: 'tor', count: 2 },
      { network: 'aws', count: 1 },
      { network: 'mullvad', count: 1 },
    ]);
    const summary = formatReport(r);
    expect(summary).toContain('  What kind of IP (hosting, Tor, VPN, iCloud Private Relay): 4 decisions\n');
    expect(summary).toMatch(/^ {4}hosting +2 +2 40\.0%$/m);
    expect(summary).toContain('    networks: tor 2, aws 1, mullvad 1\n');
    const page = reportPage(r);
    expect(page).toContain('<td>vpn</td><td>1</td><td>1 (20.0%)</td></tr>');
    expect(page).toContain('<tr data-name="mullvad" data-count="1"><td>mullvad</td><td>1</td></tr>');
    expect((JSON.parse(text.split('\n')[0]!) as DecisionLine).ipNetwork).toBe('tor');
  });
});

describe('ipmatch report: a section per signal family, from a log a real decisionLog wrote', () => {
  test('the families, their signals and what-if, networks, number types, velocity counts and the busiest block', async () => {
    const file = join(dir, 'families.ndjson');
    await writeSignalsLog(file);
    const text = readFileSync(file, 'utf8');
    for (const [phone, ip] of CHECKS) {
      expect(text).not.toContain(phone.slice(0, -3));
      expect(text).not.toContain(`"${ip}"`);
    }
    const out: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: () => {}, env: {} };
    expect(await main(['report', file, '--json'], io)).toBe(0);
    const r = JSON.parse(out.join('')) as Report;
    expect(r.totals.decisions).toBe(EXPECTED.decisions);
    expect(Object.fromEntries(r.families.map((f) => [f.family, f.decisions]))).toEqual(EXPECTED.families);
    expect(r.signals.map((s) => [s.signal, s.count, s.ifBlocked])).toEqual(EXPECTED.signals);
    expect(r.networks.map((n) => [n.network, n.count])).toEqual(EXPECTED.networks);
    expect(r.phoneTypes.map((t) => [t.type, t.count])).toEqual(EXPECTED.phoneTypes);
    const v = r.velocity!;
    expect(v.counted).toBe(EXPECTED.decisions);
    for (const k of ['ip', 'subnet', 'phoneCountries', 'prefix'] as const)
      expect([k, v[k].buckets]).toEqual([k, EXPECTED.velocity[k]]);
    expect([v.ip.max, v.prefix.max]).toEqual([6, 6]);
    const burstBlock = lineKeys(LOG_SECRET).prefix(BURST[0]!);
    expect(r.prefixes!.top[0]).toEqual({
      prefixKey: burstBlock,
      count: EXPECTED.topBlockCount,
      overcount: 0,
    });
    expect(r.prefixes!.top.slice(1).map((b) => b.count)).toEqual([1, 1, 1, 1]);
    // Blocking one signal, per route (here one: direct checks): what each would add to the policy in force.
    const added = EXPECTED.signals.filter(([, , n]) => n > 0).sort((a, b) => b[2] - a[2]);
    expect(r.whatIf.rows[0]!.signals.map((s) => [s.signal, s.blocked])).toEqual(
      expect.arrayContaining(added.map(([signal, , n]) => [signal, n])),
    );
    expect(r.whatIf.rows[0]!.signals).toHaveLength(added.length);

    out.length = 0;
    await main(['report', file], io);
    const summary = out.join('');
    expect(summary).toContain(
      '  Velocity (numbers per IP, subnet and block; countries per number): 3 decisions\n',
    );
    expect(summary).toMatch(/^ {4}ip_velocity +3 +3 30\.0%$/m);
    expect(summary).toMatch(/^ {6}numbers from the IP +0 +4 +2 +1 +2 +1 +0 +6$/m);
    expect(summary).toMatch(new RegExp(`^ {6}${burstBlock} +6$`, 'm'));
    expect(summary).toContain('    number types: mobile 8, fixed_line_or_mobile 1, premium_rate 1\n');
    expect(summary).toContain('  The client IP: 0 decisions\n    none\n');
    expect(summary).toMatch(
      /^ {2}route +ip_velocity +prefix_burst +hosting +tor_exit +premium_rate_number$\n^ {2}all routes +3 30\.0% +2 20\.0% +1 10\.0% +1 10\.0% +1 10\.0%$/m,
    );
  });
});
