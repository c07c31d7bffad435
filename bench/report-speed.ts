/**
 * `ipmatch report` on a million decision-log lines, in a child process of its own so that its peak RSS is its
 * own. The baseline, in the same process and run, is a bare streaming read of the same file that only counts
 * newlines: the floor of any line-by-line reader, and what the report's ratio is against.
 *
 *   npx tsx bench/report-speed.ts [--quick]        (100,000 lines with --quick)
 */
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { benchFile, reply } from './children.js';
import { writeDecisionLines } from './decision-lines.js';

export interface ReportSpeed {
  lines: number;
  fileMB: number;
  /** Wall time of `ipmatch report FILE --json`, in seconds. */
  seconds: number;
  linesPerSecond: number;
  /** Peak resident set size of the process (report included), in MB. */
  peakRssMB: number;
  /** The bare read: seconds, and the report's time over it. */
  baselineSeconds: number;
  ratio: number;
}

async function bareRead(file: string): Promise<number> {
  let newlines = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 16 }) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
  }
  return newlines;
}

const lines = process.argv.includes('--quick') ? 100_000 : 1_000_000;
const dir = benchFile('../.tmp/bench');
mkdirSync(dir, { recursive: true });
const file = join(dir, `decisions-${lines}.ndjson`);
if (!existsSync(file)) await writeDecisionLines(file, lines);

await bareRead(file); // warms the page cache, uncounted
let t = performance.now();
const counted = await bareRead(file);
const baselineSeconds = (performance.now() - t) / 1000;
if (counted !== lines) throw new Error(`expected ${lines} lines in ${file}, found ${counted}`);

let out = '';
t = performance.now();
const code = await main(['report', file, '--json'], {
  stdout: (s) => {
    out += s;
  },
  stderr: () => {},
  env: {},
});
const seconds = (performance.now() - t) / 1000;
const decisions = (JSON.parse(out) as { totals: { decisions: number } }).totals.decisions;
if (code !== 0 || decisions !== lines) throw new Error(`report exited ${code} with ${decisions} decisions`);

const result: ReportSpeed = {
  lines,
  fileMB: Math.round(statSync(file).size / 2 ** 20),
  seconds: Number(seconds.toFixed(2)),
  linesPerSecond: Math.round(lines / seconds),
  peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  baselineSeconds: Number(baselineSeconds.toFixed(2)),
  ratio: Number((seconds / baselineSeconds).toFixed(1)),
};
reply(result);
