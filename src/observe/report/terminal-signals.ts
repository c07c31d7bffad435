/** The terminal summary's signal sections, one per family, from a report already made inert. */
import type { CountSpread, Report } from './figures.js';
import { count, percent, routeName } from './format.js';
import { table } from './text-table.js';

const IN = '    ';
/** Signal columns the summary's per-route what-if shows; --json and the page have them all. */
const SIGNAL_COLUMNS = 8;

/** What each velocity count is, in words, for the rows of its spread. */
export const VELOCITY_ROWS = [
  ['ip', 'numbers from the IP'],
  ['subnet', 'numbers from its subnet'],
  ['phoneCountries', 'IP countries of the number'],
  ['prefix', 'numbers in its block'],
] as const;

const named = (entries: [string, number][]) => entries.map(([n, c]) => `${n} ${count(c)}`).join(', ');

function velocityLines(report: Report): string[] {
  const v = report.velocity;
  const out: string[] = [];
  if (v) {
    const spread = (name: string, s: CountSpread) => [name, ...s.buckets.map(count), count(s.max)];
    out.push(
      `${IN}velocity counts of ${count(v.counted)} decisions (0: not counted), this request included:`,
      table(
        [['', ...v.buckets, 'max'], ...VELOCITY_ROWS.map(([key, name]) => spread(name, v[key]))],
        `${IN}  `,
      ),
    );
  }
  const p = report.prefixes;
  if (p && p.top.length > 0) {
    const about = p.approximate ? ` (more blocks than ${count(p.held)} counters: some counts run high)` : '';
    out.push(
      `${IN}blocks of numbers seen most (prefixKey), of ${count(p.keyedLines)} keyed decisions${about}:`,
      table(
        p.top.map((b) => [
          b.prefixKey,
          count(b.count),
          ...(p.approximate ? [b.overcount > 0 ? `over by ${count(b.overcount)} at most` : 'exact'] : []),
        ]),
        `${IN}  `,
      ),
    );
  }
  return out;
}

/**
 * One section per signal family: its signals with what blocking each would add, then what the family knows
 * besides (networks, number types, the spread of the velocity counts and the busiest blocks of numbers).
 */
export function signalSections(report: Report): string[] {
  const out = [
    '',
    'Signals by family ("if blocked": decisions with the signal that the policy did not block, and their share)',
  ];
  for (const f of report.families) {
    out.push(`  ${f.title}: ${count(f.decisions)} ${f.decisions === 1 ? 'decision' : 'decisions'}`);
    const rows = report.signals
      .filter((s) => s.family === f.family)
      .map((s) => [s.signal, count(s.count), `${count(s.ifBlocked)} ${percent(s.ifBlockedShare)}`]);
    if (rows.length > 0) out.push(table([['signal', 'decisions', 'if blocked'], ...rows], IN));
    else out.push(`${IN}none`);
    if (f.family === 'ip_nature' && report.networks.length > 0) {
      out.push(`${IN}networks: ${named(report.networks.map((n) => [n.network, n.count]))}`);
    }
    if (f.family === 'number' && report.phoneTypes.length > 0) {
      out.push(`${IN}number types: ${named(report.phoneTypes.map((t) => [t.type, t.count]))}`);
    }
    if (f.family === 'velocity') out.push(...velocityLines(report));
  }
  return out;
}

/** The signals whose block would add something somewhere, most added first: the per-route what-if's columns. */
export function signalColumns(report: Report): string[] {
  return report.signals
    .filter((s) => s.ifBlocked > 0)
    .sort((a, b) => b.ifBlocked - a.ifBlocked)
    .map((s) => s.signal);
}

/** Per route, what blocking each signal would add to the policy in force: the rows of `rowsShown` routes. */
export function signalWhatIf(report: Report, rowsShown: number): string[] {
  const all = signalColumns(report);
  if (all.length === 0) return [];
  const columns = all.slice(0, SIGNAL_COLUMNS);
  const rows = report.whatIf.rows.slice(0, rowsShown).map((r) => {
    const added = new Map(r.signals.map((s) => [s.signal, s]));
    return [
      r.all ? 'all routes' : routeName(r.route),
      ...columns.map((c) => {
        const s = added.get(c);
        return s ? `${count(s.blocked)} ${percent(s.share)}` : '-';
      }),
    ];
  });
  const more =
    all.length > columns.length
      ? [`  … and ${all.length - columns.length} more signals (--json has all)`]
      : [];
  return [
    '',
    "What if a signal were 'block' too: the decisions it would add to the policy in force, per route",
    table([['route', ...columns], ...rows]),
    ...more,
  ];
}
