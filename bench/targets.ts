import type { CheckThroughput } from './check-throughput.js';
import type { MemoryFigures } from './memory.js';
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
  vonage?: VonagePath;
  memory?: MemoryFigures;
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

/** The targets, for whichever parts ran. */
export function evaluate(f: Figures): Target[] {
  const out: Target[] = [];
  if (f.route) {
    const { hot, cold } = f.route;
    if (hot.cpuRatio.ipmatch !== undefined && cold.cpuRatio.ipmatch !== undefined) {
      out.push(atMost('hot stream: ipMatch CPU/request vs bare', hot.cpuRatio.ipmatch, 1.05, '×'));
      out.push(atLeast('hot stream: ipMatch req/s vs bare', hot.rpsRatio.ipmatch!, 0.95, '×'));
      out.push(atMost('cold stream: ipMatch CPU/request vs bare', cold.cpuRatio.ipmatch, 1.2, '×'));
      const ipm = cold.cpuRatio.ipmatch;
      const erl = cold.cpuRatio['rate-limit'];
      if (erl !== undefined) {
        out.push({
          name: 'cold stream: ipMatch CPU/request below express-rate-limit’s',
          target: `< ${erl}× (rate-limit, same run)`,
          value: ipm,
          pass: ipm < erl,
          ...(ipm >= erl ? { missBy: Number((ipm - erl).toFixed(3)) } : {}),
        });
      }
      if (f.route.noisy) {
        for (const t of out) t.note = 'noisy run: identical servers differed by more than 5%';
      }
    }
  }
  if (f.check) {
    out.push(atLeast('check() warm, checks/s', f.check.warm, 300_000));
    out.push(atLeast('check() cold, checks/s', f.check.cold, 50_000));
  }
  if (f.vonage) {
    const v = f.vonage;
    out.push(atMost(`Vonage: added p99 at ${v.concurrency} concurrent, ms`, v.addedP99, 5));
    out.push({
      name: 'Vonage: upstream calls = distinct numbers',
      target: `= ${v.distinct}`,
      value: v.upstreamCalls,
      pass: v.upstreamCalls === v.distinct,
      ...(v.upstreamCalls !== v.distinct ? { missBy: v.upstreamCalls - v.distinct } : {}),
    });
    out.push(atMost('Vonage: sockets opened vs pool size', v.socketsOpened, v.pool));
    out.push(atMost('hung upstream: worst decision, ms', v.hung.worstMs, v.hung.timeoutMs + 50));
  }
  if (f.memory) out.push(atMost('RSS with the default data over bare Express, MB', f.memory.deltaMB, 60));
  return out;
}
