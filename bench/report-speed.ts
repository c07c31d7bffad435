/**
 * `ipmatch report` on a million decision-log lines, as a user runs it: `node dist/cli.js report FILE --json`, a
 * process of its own, whose peak RSS and CPU a preload (max-rss.cjs) reports on exit. Two baselines run here,
 * in the same run: a bare read that only counts newlines, and the floor of any JSON-lines reader, the same read
 * with a JSON.parse of every line. The report's time over the floor says what its checks and counting cost on
 * top; on a shared machine the ratio, and the CPU seconds, are the figures to read.
 *
 *   npx tsx bench/report-speed.ts [--quick]        (100,000 lines with --quick)
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { benchFile, reply } from './children.js';
import { writeDecisionLines } from './decision-lines.js';
import { ensureBuilt } from './dist.js';

export interface ReportSpeed {
  lines: number;
  fileMB: number;
  /** Wall time of `ipmatch report FILE --json`, process start to exit, in seconds. */
  seconds: number;
  /** CPU of that process (user + system, every thread), in seconds. */
  cpuSeconds: number;
  linesPerSecond: number;
  /** Peak resident set size of that process, in MB. */
  peakRssMB: number;
  /** The bare read, in seconds. */
  readSeconds: number;
  /** The read with a JSON.parse per line: wall and CPU seconds, and the report's over it. */
  parseSeconds: number;
  parseCpuSeconds: number;
  ratioToParse: number;
  cpuRatioToParse: number;
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
  const lines = createReadStream(file, { highWaterMark: 1 << 20, encoding: 'utf8' }) as AsyncIterable<string>;
  for await (const chunk of lines) {
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

/** Runs the built CLI on `file`; resolves with its wall time, its own usage, and the decisions it counted. */
function runReport(
  file: string,
): Promise<{ seconds: number; maxRssKB: number; cpuUs: number; decisions: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [
      '-r',
      benchFile('max-rss.cjs'),
      benchFile('../dist/cli.js'),
      'report',
      file,
      '--json',
    ]);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) return reject(new Error(`ipmatch report exited ${code}: ${err}`));
      const usage = JSON.parse(err.trim().split('\n').at(-1)!) as { maxRssKB: number; cpuUs: number };
      const decisions = (JSON.parse(out) as { totals: { decisions: number } }).totals.decisions;
      resolve({ seconds, ...usage, decisions });
    });
  });
}

const lines = process.argv.includes('--quick') ? 100_000 : 1_000_000;
ensureBuilt();
const dir = benchFile('../.tmp/bench');
mkdirSync(dir, { recursive: true });
const file = join(dir, `decisions-${lines}.ndjson`);
if (!existsSync(file)) await writeDecisionLines(file, lines);

await bareRead(file); // warms the page cache, uncounted
let t = performance.now();
const counted = await bareRead(file);
const readSeconds = (performance.now() - t) / 1000;
if (counted !== lines) throw new Error(`expected ${lines} lines in ${file}, found ${counted}`);

const report = await runReport(file);
if (report.decisions !== lines)
  throw new Error(`the report counted ${report.decisions} of ${lines} decisions`);

const cpu = process.cpuUsage();
t = performance.now();
await parseEvery(file);
const parseSeconds = (performance.now() - t) / 1000;
const parseUsed = process.cpuUsage(cpu);
const parseCpuSeconds = (parseUsed.user + parseUsed.system) / 1e6;

const two = (x: number) => Number(x.toFixed(2));
const result: ReportSpeed = {
  lines,
  fileMB: Math.round(statSync(file).size / 2 ** 20),
  seconds: two(report.seconds),
  cpuSeconds: two(report.cpuUs / 1e6),
  linesPerSecond: Math.round(lines / report.seconds),
  peakRssMB: Math.round(report.maxRssKB / 1024),
  readSeconds: two(readSeconds),
  parseSeconds: two(parseSeconds),
  parseCpuSeconds: two(parseCpuSeconds),
  ratioToParse: two(report.seconds / parseSeconds),
  cpuRatioToParse: two(report.cpuUs / 1e6 / parseCpuSeconds),
  loadAverage: loadavg().map((x) => Number(x.toFixed(1))),
};
reply(result);
