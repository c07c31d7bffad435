import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { lineKeys } from '../../src/observe/decision-line.js';
import type { Report } from '../../src/observe/report/figures.js';
import { count, percent } from '../../src/observe/report/format.js';
import { BURST, EXPECTED, LOG_SECRET, writeSignalsLog } from './signals-log.js';

/**
 * The report page in a real browser: Debian's chromium, driven by playwright-core. Under CI=true a missing
 * chromium fails (.ci/run installs it); elsewhere the test is skipped with a message that says how to run it.
 */
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
const CHROMIUM =
  process.env.CHROMIUM_PATH ??
  ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ??
  spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();
const HOW_TO_RUN =
  'apt-get install chromium (or set CHROMIUM_PATH) && npx vitest run test/observe/report-page.test.ts';
if (!CHROMIUM && IN_CI)
  throw new Error(`chromium is not installed under CI=true: .ci/run installs it. ${HOW_TO_RUN}`);
if (!CHROMIUM)
  console.warn(`\n  Report page browser test SKIPPED: no chromium. To run it:\n    ${HOW_TO_RUN}\n`);

const FIXTURE = fileURLToPath(new URL('../fixtures/decisions.ndjson', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ipmatch-page-'));
const page = join(dir, 'report.html');
/** The signal and velocity sections' page, from a log a real decisionLog wrote (test/observe/signals-log.ts). */
const signalsPage = join(dir, 'signals.html');
let report: Report;
let signals: Report;
let browser: Browser | undefined;

/** `ipmatch report <log> --json --html <page>`: the figures as --json prints them. */
async function reportOf(log: string, html: string): Promise<Report> {
  const out: string[] = [];
  const io = { stdout: (t: string) => void out.push(t), stderr: () => {}, env: {} };
  expect(await main(['report', log, '--json', '--html', html], io)).toBe(0);
  return JSON.parse(out.join('')) as Report;
}

beforeAll(async () => {
  report = await reportOf(FIXTURE, page);
  const log = join(dir, 'signals.ndjson');
  await writeSignalsLog(log);
  signals = await reportOf(log, signalsPage);
  if (CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!CHROMIUM)('the report page in Chromium', () => {
  test('loads offline with no request and no console error, and shows the numbers of --json', async () => {
    const context = await browser!.newContext({ offline: true, viewport: { width: 980, height: 900 } });
    const tab = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    tab.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    tab.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    tab.on('request', (r) => requests.push(r.url()));
    const url = pathToFileURL(page).href;
    await tab.goto(url, { waitUntil: 'load' });

    const figures = await tab.$$eval('[data-figure]', (cards) =>
      Object.fromEntries(
        cards.map((c) => [
          c.getAttribute('data-figure'),
          [Number(c.getAttribute('data-value')), c.querySelector('b')?.textContent],
        ]),
      ),
    );
    const inForce = report.whatIf.rows[0]!.results[0]!;
    expect(figures).toEqual({
      decisions: [report.totals.decisions, count(report.totals.decisions)],
      mismatches: [report.pairs.mismatches, count(report.pairs.mismatches)],
      'in-force-blocked': [inForce.blocked, percent(inForce.share)],
      flagged: [report.totals.byAction.flag, count(report.totals.byAction.flag)],
      'bad-lines': [report.input.bad.count, count(report.input.bad.count)],
    });

    // The what-if table: every route and every policy, blocked counts and shares as --json has them.
    const cells = await tab.$$eval('#what-if tr[data-route]', (rows) =>
      rows.map((r) =>
        [...r.querySelectorAll('td[data-policy]')].map((td) => [
          Number(td.getAttribute('data-blocked')),
          td.childNodes[0]?.textContent,
        ]),
      ),
    );
    expect(cells).toEqual(
      report.whatIf.rows.map((row) => row.results.map((x) => [x.blocked, percent(x.share)])),
    );

    // The heatmap: one cell per top pair, with its count.
    const heat = await tab.$$eval('[data-pair]', (gs) =>
      gs.map((g) => [g.getAttribute('data-pair'), g.querySelector('text')?.textContent]),
    );
    expect(heat).toEqual(report.pairs.top.map((p) => [`${p.phoneCountry}>${p.ipCountry}`, count(p.count)]));

    // The timeline: one bar group per bucket, each titled with its total.
    const bars = await tab.$$eval('svg[aria-label^="Decisions per"] g > title', (ts) =>
      ts.map((t) => t.textContent),
    );
    expect(bars).toHaveLength(report.timeline.buckets.length);
    expect(bars[0]).toContain(
      `: ${count(report.timeline.buckets[0]!.allow + report.timeline.buckets[0]!.flag + report.timeline.buckets[0]!.block)} (`,
    );

    // Reasons, as text beside each bar.
    const reasons = await tab.$$eval('svg[aria-label="Decisions by reason"] text', (ts) =>
      ts.map((t) => t.textContent),
    );
    for (const [reason, n] of Object.entries(report.totals.byReason)) {
      expect(reasons).toContain(reason);
      expect(reasons).toContain(`${count(n)} · ${((n / report.totals.decisions) * 100).toFixed(1)}%`);
    }

    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);
    const shot = join(dir, 'report.png');
    await tab.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);
    await context.close();
  });
});

describe.skipIf(!CHROMIUM)('the report page in Chromium: the signal and velocity sections', () => {
  test('render every family with the counts of --json and of the log, with no error and no request', async () => {
    const context = await browser!.newContext({ offline: true, viewport: { width: 980, height: 900 } });
    const tab = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    tab.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    tab.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    tab.on('request', (r) => requests.push(r.url()));
    const url = pathToFileURL(signalsPage).href;
    await tab.goto(url, { waitUntil: 'load' });

    // One section per family, in the table's order, each with its decisions, shown and in data-decisions.
    const sections = await tab.$$eval('section[data-family]', (ss) =>
      ss.map((s) => [
        s.getAttribute('data-family'),
        Number(s.getAttribute('data-decisions')),
        s.querySelector('h3')?.textContent,
        (s as unknown as { offsetHeight: number }).offsetHeight > 0,
      ]),
    );
    expect(sections.map(([family, n]) => [family, n])).toEqual(Object.entries(EXPECTED.families));
    expect(sections.map(([, n]) => n)).toEqual(signals.families.map((f) => f.decisions));
    expect(
      sections.every(
        ([, n, title, visible]) => visible && title?.endsWith(`: ${n} decision${n === 1 ? '' : 's'}`),
      ),
    ).toBe(true);

    // Each signal in its family's section: its decisions and what blocking it would add, as counted by hand.
    const rows = await tab.$$eval('section[data-family] tr[data-signal]', (trs) =>
      trs.map((tr) => [
        tr.closest('section')!.getAttribute('data-family'),
        tr.getAttribute('data-signal'),
        [...tr.querySelectorAll('td')].map((td) => td.textContent),
      ]),
    );
    expect(
      rows.map(([, signal, cells]) => [signal, Number(cells[1]), Number(cells[2]!.split(' ')[0])]),
    ).toEqual(EXPECTED.signals);
    expect(rows.map(([family]) => family)).toEqual(signals.signals.map((s) => s.family));
    expect(rows.map(([, , cells]) => cells[2])).toEqual(
      signals.signals.map((s) => `${count(s.ifBlocked)} (${percent(s.ifBlockedShare)})`),
    );

    // Networks and number types, in their families' sections.
    const named = (id: string) =>
      tab.$$eval(`#${id} tr[data-name]`, (trs) =>
        trs.map((tr) => [tr.getAttribute('data-name'), Number(tr.querySelectorAll('td')[1]?.textContent)]),
      );
    expect(await named('networks')).toEqual(EXPECTED.networks);
    expect(await named('phone-types')).toEqual(EXPECTED.phoneTypes);
    expect(await tab.$eval('#networks', (t) => t.closest('section')?.id)).toBe('family-ip_nature');
    expect(await tab.$eval('#phone-types', (t) => t.closest('section')?.id)).toBe('family-number');

    // The velocity counts' spread, bucket by bucket, and the largest count.
    const spread = await tab.$$eval('#velocity-counts tr[data-count]', (trs) =>
      trs.map((tr) => [
        tr.getAttribute('data-count'),
        [...tr.querySelectorAll('td[data-bucket]')].map((td) => Number(td.textContent)),
        Number(tr.querySelector('td[data-max]')?.textContent),
      ]),
    );
    expect(spread).toEqual(
      (['ip', 'subnet', 'phoneCountries', 'prefix'] as const).map((k) => [
        k,
        [...EXPECTED.velocity[k]],
        signals.velocity![k].max,
      ]),
    );
    expect(await tab.$$eval('#velocity-counts th', (ths) => ths.map((th) => th.textContent))).toEqual([
      'Count (this request included)',
      ...signals.velocity!.buckets,
      'Max',
    ]);

    // What blocking each signal would add, per route: every cell as --json has it.
    const whatIf = await tab.$$eval('#what-if-signals tr[data-route]', (trs) =>
      trs.map((tr) =>
        [...tr.querySelectorAll('td[data-signal]')].map((td) => [
          td.getAttribute('data-signal'),
          Number(td.getAttribute('data-blocked')),
          td.childNodes[0]?.textContent,
        ]),
      ),
    );
    expect(whatIf).toHaveLength(signals.whatIf.rows.length);
    expect(whatIf[0]!.map(([signal, n]) => [signal, n])).toEqual(
      expect.arrayContaining(signals.whatIf.rows[0]!.signals.map((s) => [s.signal, s.blocked])),
    );
    for (const [signal, n, shown] of whatIf[0]!) {
      const s = signals.signals.find((x) => x.signal === signal)!;
      expect([n, shown]).toEqual([s.ifBlocked, percent(s.ifBlockedShare)]);
    }

    // The busiest block first, by its keyed label: the burst's six numbers.
    const blocks = await tab.$$eval('#prefixes tr[data-prefix]', (trs) =>
      trs.map((tr) => [
        tr.querySelector('code')?.textContent,
        Number(tr.querySelectorAll('td')[1]?.textContent),
      ]),
    );
    expect(blocks[0]).toEqual([lineKeys(LOG_SECRET).prefix(BURST[0]!), EXPECTED.topBlockCount]);
    expect(blocks).toEqual(signals.prefixes!.top.map((b) => [b.prefixKey, b.count]));

    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);
    await context.close();
  });
});
