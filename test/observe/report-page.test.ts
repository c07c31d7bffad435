import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Report } from '../../src/observe/report/figures.js';
import { count, percent } from '../../src/observe/report/format.js';

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
let report: Report;
let browser: Browser | undefined;

beforeAll(async () => {
  const out: string[] = [];
  const io = { stdout: (t: string) => void out.push(t), stderr: () => {}, env: {} };
  expect(await main(['report', FIXTURE, '--json', '--html', page], io)).toBe(0);
  report = JSON.parse(out.join('')) as Report;
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
