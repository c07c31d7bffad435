import { cpus } from 'node:os';
import type { CheckThroughput } from './check-throughput.js';
import type { ColdStart } from './cold-start.js';
import type { MemoryFigures } from './memory.js';
import type { ReportSpeed } from './report-speed.js';
import type { RouteOverhead } from './route-overhead.js';
import type { VonagePath } from './vonage-path.js';

export interface Target {
  name: string;
  /** The target in words, e.g. '≤ 1.05'. */
  target: string;
  value: number;
  pass: boolean;
  /** How far off a miss is, in the figure's unit (positive: by how much). */
  missBy?: number;
  /** Why the figure may not be trusted to its last digit (a noisy run). */
  note?: string;
}

export interface Figures {
  route?: RouteOverhead;
  check?: CheckThroughput;
  /** One per remote provider: vonageProvider, identityInsightsProvider. */
  remote?: VonagePath[];
  coldStart?: ColdStart;
  memory?: MemoryFigures;
  report?: ReportSpeed;
}

const atMost = (name: string, value: number, max: number, unit = ''): Target => ({
  name,
  target: `≤ ${max}${unit}`,
  value,
  pass: value <= max,
  ...(value > max ? { missBy: Number((value - max).toFixed(3)) } : {}),
});
const atLeast = (name: string, value: number, min: number, unit = ''): Target => ({
  name,
  target: `≥ ${min.toLocaleString('en')}${unit}`,
  value,
  pass: value >= min,
  ...(value < min ? { missBy: Number((min - value).toFixed(3)) } : {}),
});

const FLOOR_HOT = 1.03;
const FLOOR_COLD = 1.08;

/** The issue's targets (issue 14), for whichever parts ran. */
export function evaluate(f: Figures): Target[] {
  const out: Target[] = [];
  if (f.route) {
    const route: Target[] = [];
    for (const [stream, max] of [
      ['hot', FLOOR_HOT],
      ['cold', FLOOR_COLD],
    ] as const) {
      const { floorRatio, floorRatioInterval } = f.route[stream];
      for (const [name, value] of Object.entries(floorRatio)) {
        const t = atMost(`route floor, ${stream}: ${name} CPU/request vs its floor`, value, max, '×');
        const interval = floorRatioInterval[name as keyof typeof floorRatioInterval];
        // Pass or miss is the pooled figure's; the interval says whether the run had rounds enough to tell.
        if (interval && interval[0] <= max && max <= interval[1]) {
          t.note = `not judged: the 90% interval ${interval[0]}–${interval[1]} holds ${max}; run more --rounds`;
        } else if (interval) {
          t.note = `90% interval ${interval[0]}–${interval[1]}`;
        }
        route.push(t);
      }
    }
    if (f.route.noisy) {
      for (const t of route)
        t.note = `${t.note ? `${t.note}; ` : ''}noisy run: identical servers differed by more than 5%`;
    }
    out.push(...route);
  }
  for (const v of f.remote ?? []) {
    const name = v.provider;
    out.push(atMost(`remote path (${name}): CPU/check vs bare undici + JSON.parse`, v.cpuRatio, 1.5, '×'));
    out.push(
      atMost(`remote path (${name}): added p50 at ${v.concurrency} vs bare undici`, v.p50Ratio, 1.5, '×'),
    );
    out.push(
      atMost(`remote path (${name}): added p99 at ${v.concurrency} vs bare undici`, v.p99Ratio, 1.5, '×'),
    );
    out.push({
      name: `remote path (${name}): upstream calls = distinct numbers`,
      target: `= ${v.distinct}`,
      value: v.upstreamCalls,
      pass: v.upstreamCalls === v.distinct,
      ...(v.upstreamCalls !== v.distinct ? { missBy: v.upstreamCalls - v.distinct } : {}),
    });
    out.push(atMost(`remote path (${name}): sockets opened vs pool size`, v.socketsOpened, v.pool));
    out.push(atMost(`hung upstream (${name}): worst decision, ms`, v.hung.worstMs, v.hung.timeoutMs + 50));
  }
  if (f.coldStart) {
    out.push(
      atMost(
        "cold start: import('ipmatch/express') + first decision over node -e 0, ms",
        f.coldStart.overNodeMs,
        120,
      ),
    );
  }
  if (f.memory)
    out.push(atMost('memory: RSS with the default data over bare Express, MB', f.memory.deltaMB, 60));
  if (f.check) {
    out.push(atLeast('check() warm, checks/s', f.check.warm, 800_000));
    out.push(atLeast('check() cold, checks/s', f.check.cold, 150_000));
  }
  if (f.report && f.report.lines === 1_000_000) {
    // Issue 13's targets; the time is the machine's, so the note gives the load it ran under.
    const note = `load average ${f.report.loadAverage.join(' ')} on ${cpus().length} cores`;
    out.push({ ...atMost('report: 1M decision-log lines, seconds', f.report.seconds, 10), note });
    out.push(atMost('report: 1M decision-log lines, peak RSS, MB', f.report.peakRssMB, 200));
  }
  return out;
}
