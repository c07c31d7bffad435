import { NOISE_TOLERANCE, peer, type RouteOverhead, type ServerName } from './route-overhead.js';
import type { ScalingRow } from './scaling.js';
import { SERVER_KINDS } from './servers.js';
import type { Figures, Target } from './targets.js';

const LABELS: Record<ServerName, string> = {
  bare: 'Express: bare',
  'bare-twin': 'Express: bare twin (noise)',
  floor: 'Express: floor (reads req.ip)',
  ipmatch: 'Express: ipMatch() default',
  'rate-limit': 'Express: express-rate-limit',
  naive: 'Express: naive lookup',
  'ipmatch-listen': 'Express: ipMatch() + no-op onDecision',
  'ipmatch-log': 'Express: ipMatch() + decisionLog()',
  'ipmatch-novelocity': 'Express: ipMatch no velocity',
  'koa-bare': 'Koa: bare',
  'koa-floor': 'Koa: floor (reads ctx.ip)',
  'koa-ipmatch': 'Koa: ipMatch() default',
  'koa-ipmatch-novelocity': 'Koa: ipMatch no velocity',
  'fastify-bare': 'Fastify: bare',
  'fastify-floor': 'Fastify: floor (reads req.ip)',
  'fastify-ipmatch': 'Fastify: ipMatch() default',
  'hono-bare': 'Hono: bare (reads the body)',
  'hono-floor': 'Hono: floor (request-ip)',
  'hono-ipmatch': 'Hono: ipMatch() request-ip',
};

const pad = (s: string, n: number) => s.padEnd(n);
const num = (x: number, d = 0) =>
  x.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d });

function routeTable(r: RouteOverhead): string[] {
  const range = (x: [number, number] | undefined, d = 2) =>
    x ? `${x[0].toFixed(d)}–${x[1].toFixed(d)}` : '';
  const floor = (s: 'hot' | 'cold', name: ServerName) => r[s].floorRatio[name]?.toFixed(3) ?? '';
  const lines = [
    `Route overhead: POST /signup, ${r.rounds} rounds of ${r.burstSeconds} s bursts, ` +
      `${r.connections} connections per server, servers loaded ${r.schedule}. CPU: server CPU per request as a ` +
      "ratio to the same framework's bare route in the same round, median over rounds (range: lowest–highest " +
      'round). To floor: ipMatch against its floor, CPU summed over all rounds per request (90%: bootstrap interval)',
    `${pad('server', 31)}${pad('hot CPU', 9)}${pad('(range)', 11)}${pad('to floor', 10)}${pad('(90%)', 13)}` +
      `${pad('req/s', 7)}${pad('cold CPU', 10)}${pad('(range)', 11)}${pad('to floor', 10)}${pad('(90%)', 13)}req/s`,
  ];
  for (const name of r.servers) {
    lines.push(
      pad(LABELS[name], 31) +
        pad(r.hot.cpuRatio[name]!.toFixed(3), 9) +
        pad(range(r.hot.cpuRatioRange[name]), 11) +
        pad(floor('hot', name), 10) +
        pad(range(r.hot.floorRatioInterval[name], 3), 13) +
        pad(r.hot.rpsRatio[name]!.toFixed(2), 7) +
        pad(r.cold.cpuRatio[name]!.toFixed(3), 10) +
        pad(range(r.cold.cpuRatioRange[name]), 11) +
        pad(floor('cold', name), 10) +
        pad(range(r.cold.floorRatioInterval[name], 3), 13) +
        r.cold.rpsRatio[name]!.toFixed(2),
    );
  }
  if (r.noisy !== undefined) {
    const twin = `${r.hot.cpuRatio['bare-twin']} hot, ${r.cold.cpuRatio['bare-twin']} cold`;
    lines.push(
      r.noisy
        ? `NOISY RUN: identical bare servers measured ${twin}, beyond ±${NOISE_TOLERANCE * 100}%; read every ` +
            'ratio as ± that much, or rerun with more --rounds on a quieter machine'
        : `noise floor: identical bare servers measured ${twin} (within ±${NOISE_TOLERANCE * 100}%)`,
    );
  }
  lines.push(
    '',
    'Where the server CPU goes, medians in µs per request: all threads = main thread + other threads (V8 GC ' +
      'helpers, libuv); GC = main-thread GC pauses',
    `${pad('server', 31)}${pad('hot: all', 10)}${pad('main', 7)}${pad('other', 7)}${pad('GC', 6)}${pad('req/s', 8)}` +
      `${pad('cold: all', 11)}${pad('main', 7)}${pad('other', 7)}${pad('GC', 6)}${pad('req/s', 7)}major GCs/s`,
  );
  for (const name of r.servers) {
    const h = r.hot.breakdown[name]!;
    const c = r.cold.breakdown[name]!;
    lines.push(
      pad(LABELS[name], 31) +
        pad(num(h.cpuUs), 10) +
        pad(num(h.mainUs), 7) +
        pad(num(h.otherThreadsUs), 7) +
        pad(num(h.gcPauseUs), 6) +
        pad(num(h.rps), 8) +
        pad(num(c.cpuUs), 11) +
        pad(num(c.mainUs), 7) +
        pad(num(c.otherThreadsUs), 7) +
        pad(num(c.gcPauseUs), 6) +
        pad(num(c.rps), 7) +
        num(c.majorGcsPerRound / r.burstSeconds, 1),
    );
  }
  lines.push(...middlewareLines(r));
  return lines;
}

/**
 * Per framework: the time inside ipMatch against the time inside its floor's middleware (both until they pass
 * the request on), and that difference as a share of the floor route's CPU per request.
 */
function middlewareLines(r: RouteOverhead): string[] {
  const lines: string[] = [];
  for (const name of r.servers) {
    if (name === 'bare-twin' || SERVER_KINDS[name].role !== 'ipmatch') continue;
    const floor = peer(name, 'floor', r.servers);
    if (!floor) continue;
    const part = (stream: 'hot' | 'cold') => {
      const own = r[stream].breakdown[name]?.middlewareUs;
      const base = r[stream].breakdown[floor];
      if (r[stream].breakdown[name]?.middlewareDeferred)
        return `${stream}: passes on after an await (reads the body), so not timed`;
      if (own === undefined || base?.middlewareUs === undefined) return `${stream} -`;
      const over = own - base.middlewareUs;
      return (
        `${stream} ${num(own, 1)} µs vs ${num(base.middlewareUs, 1)} µs, ` +
        `${over >= 0 ? '+' : ''}${num(over, 1)} µs = ${num((100 * over) / base.cpuUs, 1)}% of the floor's CPU/request`
      );
    };
    lines.push(`  ${pad(LABELS[name], 29)}${part('hot')} · ${part('cold')}`);
  }
  if (lines.length === 0) return [];
  return [
    '',
    'Inside the middleware, until it passes the request on (wall clock, pooled over rounds; blocked requests ' +
      'left out): ipMatch vs its floor',
    ...lines,
  ];
}

function scalingTable(rows: readonly ScalingRow[]): string[] {
  const lines = [
    'Scaling: numbers held in the lookup cache (stub remote provider, memory store with max = entries)',
    `${pad('entries', 11)}${pad('bytes/entry', 13)}${pad('heap MB', 9)}${pad('RSS MB', 8)}${pad('cold checks/s', 15)}${pad('hit checks/s', 14)}fill s`,
  ];
  for (const r of rows) {
    lines.push(
      pad(num(r.entries), 11) +
        pad(num(r.bytesPerEntry), 13) +
        pad(num(r.heapMB, 1), 9) +
        pad(num(r.rssMB, 1), 8) +
        pad(num(r.coldChecksPerS), 15) +
        pad(num(r.hitChecksPerS), 14) +
        num(r.fillSeconds, 1),
    );
  }
  return lines;
}

/** The whole report as printed on stdout. */
export function report(
  f: Figures & { scaling?: ScalingRow[] },
  targets: readonly Target[],
  head: string,
): string {
  const lines = [head, ''];
  if (f.route) lines.push(...routeTable(f.route), '');
  if (f.check) {
    const c = f.check;
    lines.push(
      `check() on the offline provider, one core, median of ${c.runs} runs (checks/s):`,
      `  warm ${num(c.warm)} · cold ${num(c.cold)} · new phone only ${num(c.coldPhone)} · new IP only ${num(c.coldIp)}` +
        ` · fast path decides ${(c.fastPathShare * 100).toFixed(1)}% of cold phones`,
      `  process CPU per check (all threads): warm ${c.cpuUsPerCheck.warm} µs (wall ${num(1e6 / c.warm, 2)} µs), ` +
        `cold ${c.cpuUsPerCheck.cold} µs (wall ${num(1e6 / c.cold, 2)} µs)`,
      '',
    );
  }
  for (const v of f.remote ?? []) {
    lines.push(
      `Remote path, ${v.provider} (fake server in its own process, ${v.latencyMs} ms latency, ${v.concurrency} ` +
        `concurrent, pool ${v.pool}, ${v.waves} waves alternating with bare undici + JSON.parse to the same fake):`,
      `  CPU per check: ${v.cpuUsPerCheck} µs vs ${v.directCpuUsPerCheck} µs bare (${v.cpuRatio}×)`,
      `  added over ${v.latencyMs} ms: p50 ${v.addedP50} ms vs ${v.directAddedP50} ms bare (${v.p50Ratio}×), ` +
        `p99 ${v.addedP99} ms vs ${v.directAddedP99} ms bare (${v.p99Ratio}×)`,
      `  ${num(v.checks)} checks over ${num(v.distinct)} numbers: ${num(v.upstreamCalls)} upstream calls ` +
        `(${v.callsPerCheck}/check), ${v.socketsOpened} sockets opened`,
      `  hung upstream, timeoutMs ${v.hung.timeoutMs}: worst decision ${v.hung.worstMs} ms over ${v.hung.concurrency} checks ` +
        `(${Object.entries(v.hung.reasons)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')})`,
      '',
    );
  }
  if (f.coldStart) {
    const c = f.coldStart;
    lines.push(
      `Cold start, median of ${c.runs} process pairs: import('ipmatch/express') + ipMatch() + first decision ` +
        `${c.probeMs} ms vs node -e 0 ${c.nodeMs} ms: +${c.overNodeMs} ms (pairs ${c.range[0]}–${c.range[1]}); ` +
        `inside: import ${c.importMs} ms, first decision ${c.firstDecisionMs} ms`,
      '',
    );
  }
  if (f.memory) {
    const m = f.memory;
    lines.push(
      `Memory: RSS bare Express ${m.rssBareMB} MB, ipMatch() with the default data ${m.rssIpmatchMB} MB ` +
        `(+${m.deltaMB} MB; buffers ${m.arrayBuffersBareMB} → ${m.arrayBuffersIpmatchMB} MB)`,
      '',
    );
  }
  if (f.report) {
    const r = f.report;
    lines.push(
      `ipmatch report on ${num(r.lines)} decision-log lines (${r.fileMB} MB), its own process:`,
      `  ${r.seconds} s (${num(r.linesPerSecond)} lines/s, ${r.cpuSeconds} s CPU), peak RSS ${r.peakRssMB} MB · ` +
        `a JSON.parse of every line alone: ${r.parseSeconds} s (${r.parseCpuSeconds} s CPU), so the report is ` +
        `${r.ratioToParse}× that floor (${r.cpuRatioToParse}× in CPU) · bare read ${r.readSeconds} s · load ${r.loadAverage.join(' ')}`,
      '',
    );
  }
  if (f.scaling) lines.push(...scalingTable(f.scaling), '');
  if (targets.length) {
    lines.push('Targets');
    for (const t of targets) {
      const verdict = (t.pass ? 'pass' : `MISS by ${t.missBy}`) + (t.note ? ` (${t.note})` : '');
      lines.push(`  ${pad(t.name, 72)}${pad(t.target, 12)}${pad(String(t.value), 10)}${verdict}`);
    }
  }
  return lines.join('\n');
}
