import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIpMatch, type DecisionLine, decisionLog } from 'ipmatch';
import { afterAll, describe, expect, test } from 'vitest';
import { ReportBuilder } from '../../src/observe/report/aggregate.js';
import { reportPage } from '../../src/observe/report/html.js';
import { parseLine } from '../../src/observe/report/parse-line.js';
import { formatReport } from '../../src/observe/report/terminal.js';

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
