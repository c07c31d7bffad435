/**
 * `ipmatch report` on a million decision-log lines, in a child process of its own so that its peak RSS is its
 * own. Two baselines in the same process and run: a bare streaming read that only counts newlines, and the
 * floor of any JSON-lines reader, the same read with a JSON.parse of every line. The report's ratio to the
 * floor says what its checks and counting cost on top; on a shared machine the ratio is the figure to read.
 *
 *   npx tsx bench/report-speed.ts [--quick]        (100,000 lines with --quick)
 */
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
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
  /** The bare read, in seconds. */
  readSeconds: number;
  /** The read with a JSON.parse per line, in seconds, and the report's time over it. */
  parseSeconds: number;
  ratioToParse: number;
  loadAverage: number[];
}

async function bareRead(file: string): Promise<number> {
  let newlines = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
  }
  return newlines;
}

/** Every line through JSON.parse, and nothing else. */
async function parseEvery(file: string): Promise<number> {
  let rest = '';
  let parsed = 0;
  for await (const chunk of createReadStream(file, {
    highWaterMark: 1 << 20,
    encoding: 'utf8',
  }) as AsyncIterable<string>) {
    const text = rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      if (JSON.parse(text.slice(start, nl))) parsed++;
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  return parsed;
}

const lines = process.argv.includes('--quick') ? 100_000 : 1_000_000;
const dir = benchFile('../.tmp/bench');
mkdirSync(dir, { recursive: true });
const file = join(dir, `decisions-${lines}.ndjson`);
if (!existsSync(file)) await writeDecisionLines(file, lines);

await bareRead(file); // warms the page cache, uncounted
let t = performance.now();
const counted = await bareRead(file);
const readSeconds = (performance.now() - t) / 1000;
if (counted !== lines) throw new Error(`expected ${lines} lines in ${file}, found ${counted}`);
t = performance.now();
await parseEvery(file);
const parseSeconds = (performance.now() - t) / 1000;

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
  readSeconds: Number(readSeconds.toFixed(2)),
  parseSeconds: Number(parseSeconds.toFixed(2)),
  ratioToParse: Number((seconds / parseSeconds).toFixed(2)),
  loadAverage: loadavg().map((x) => Number(x.toFixed(1))),
};
reply(result);
