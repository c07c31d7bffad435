/**
 * docs/report.png: the report page of a synthetic week (30,000 lines from decision-lines.ts, the bench's
 * generator), rendered by Debian's chromium through playwright-core as the browser test does.
 *
 *   npx tsx bench/report-screenshot.ts [out.png]      (CHROMIUM_PATH overrides /usr/bin/chromium)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { main } from '../src/cli/main.js';
import { writeDecisionLines } from './decision-lines.js';

const out = process.argv[2] ?? fileURLToPath(new URL('../docs/report.png', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ipmatch-shot-'));
try {
  const log = join(dir, 'ipmatch-decisions.ndjson');
  const page = join(dir, 'report.html');
  await writeDecisionLines(log, 30_000);
  const io = { stdout: () => {}, stderr: () => {}, env: {} };
  if ((await main(['report', log, '--html', page], io)) !== 0) throw new Error('ipmatch report failed');
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' });
  const tab = await browser.newPage({ viewport: { width: 960, height: 1200 }, deviceScaleFactor: 1 });
  await tab.goto(pathToFileURL(page).href);
  await tab.screenshot({ path: out, fullPage: true });
  await browser.close();
  console.log(`wrote ${out}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
