/** The report page of the synthetic week (bench/decision-lines.ts, every signal family) fits a laptop's width. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, test } from 'vitest';
import { writeDecisionLines } from '../../bench/decision-lines.js';
import { main } from '../../src/cli/main.js';

const CHROMIUM =
  process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
if (!CHROMIUM && process.env.CI === 'true') throw new Error('chromium is not installed under CI=true');
const dir = mkdtempSync(join(tmpdir(), 'ipmatch-width-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!CHROMIUM)('the report page of a week with every signal family', () => {
  test('is no wider than a 980 px window, though each of its many signals adds a what-if column', async () => {
    const log = join(dir, 'week.ndjson');
    const page = join(dir, 'report.html');
    await writeDecisionLines(log, 8_000);
    // As decisionLog writes it: keyed labels, never a number (the E.164 strings are hashed, not written).
    const text = readFileSync(log, 'utf8');
    expect(text).not.toMatch(/\+\d{6,}/);
    expect(text).toContain('"prefixKey":"');
    const out: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: () => {}, env: {} };
    expect(await main(['report', log, '--json', '--html', page], io)).toBe(0);
    const columns = new Set(
      (
        JSON.parse(out.join('')) as { whatIf: { rows: { signals: { signal: string }[] }[] } }
      ).whatIf.rows.flatMap((r) => r.signals.map((s) => s.signal)),
    );
    expect(columns.size).toBeGreaterThanOrEqual(10);

    const browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox'] });
    try {
      const tab = await browser.newPage({ viewport: { width: 980, height: 900 } });
      await tab.goto(pathToFileURL(page).href);
      const widths = {
        page: Number(await tab.evaluate('document.documentElement.scrollWidth')),
        table: await tab.$eval('#what-if-signals', (t) => t.getBoundingClientRect().right),
      };
      expect(widths.page).toBeLessThanOrEqual(980);
      expect(widths.table).toBeLessThanOrEqual(980);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
