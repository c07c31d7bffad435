/** The report as terminal text, with nothing from a log able to reach the terminal as a control sequence. */
import type { ActionCounts, Report, RouteFigures } from './figures.js';
import { badLineName, count, day, inForce, pairName, percent, routeName } from './format.js';
import { inert, printableLines } from './inert.js';
import { signalSections, signalWhatIf } from './terminal-signals.js';
import { table } from './text-table.js';
import { UNIT_RULE } from './timeline.js';

const ROUTES_SHOWN = 20;

const acts = (a: ActionCounts) => [count(a.allow), count(a.flag), count(a.block)];

function routeRows(routes: RouteFigures[]): string {
  const head = ['route', 'decisions', 'allow', 'flag', 'block', '│', 'allow', 'flag', 'block'];
  const rows = routes
    .slice(0, ROUTES_SHOWN)
    .map((r) => [
      routeName(r.route),
      count(r.decisions),
      ...acts(r.byAction),
      '│',
      ...acts(r.byPolicyAction),
    ]);
  return table([head, ...rows]);
}

function reasonLines(r: RouteFigures): string {
  return Object.entries(r.byReason)
    .map(([reason, n]) => `${reason} ${count(n)} (${percent(n / r.decisions)})`)
    .join(', ');
}

/**
 * The summary `ipmatch report` prints: what a person reads before deciding to enforce. Every string that came
 * from a log (or a file name) is made inert first, so no field can retitle, clear or link the terminal.
 */
export function formatReport(logged: Report): string {
  const report = inert(logged);
  const out: string[] = [];
  const { input, totals, span } = report;
  const blocked = inForce(report);
  out.push(
    `ipmatch report · ${input.sources.length} source(s) · ${count(totals.decisions)} decisions · ` +
      `${day(span.from)} → ${day(span.to)} UTC`,
  );
  const { timeline } = report;
  if (timeline.buckets.length > 0) {
    const n = timeline.buckets.length;
    out.push(
      `Timeline: ${count(n)} ${n === 1 ? 'bucket' : 'buckets'}, ${UNIT_RULE[timeline.unit]} (--html draws it)`,
    );
  }
  if (input.filtered > 0) out.push(`${count(input.filtered)} lines left out by --since/--until/--route`);
  if (input.bad.count > 0) {
    const where = input.bad.first.map((b) => `${badLineName(b)} ${b.problem}`).join('; ');
    out.push(`${count(input.bad.count)} bad lines skipped, first: ${where}`);
  }
  out.push(
    `The policy in force blocks ${count(blocked.blocked)} of ${count(totals.decisions)} (${percent(blocked.share)}); ` +
      `mismatches: ${count(report.pairs.mismatches)}.`,
    '',
    'Decisions by route (what happened │ what the policy wanted)',
    routeRows([{ ...totals, route: 'all routes' }, ...report.routes]),
  );
  if (report.routes.length > ROUTES_SHOWN)
    out.push(`  … and ${report.routes.length - ROUTES_SHOWN} more routes (--json has all)`);
  const other = report.routes.at(-1);
  if (other?.other) {
    out.push(
      `  ${count(other.decisions)} decisions on routes past the first ${count(report.routes.length - 1)} ` +
        `are counted together as ${other.route}`,
    );
  }
  out.push('', 'Reasons');
  for (const r of [{ ...totals, route: 'all routes' }, ...report.routes.slice(0, ROUTES_SHOWN)]) {
    out.push(`  ${routeName(r.route)}: ${reasonLines(r)}`);
  }
  out.push('', `Mismatches by phone country → IP country (top ${report.pairs.top.length})`);
  if (report.pairs.top.length === 0) out.push('  none');
  else out.push(table(report.pairs.top.map((p) => [pairName(p), count(p.count), percent(p.share)])));

  out.push('', "What if: the share of each route's decisions each policy would block");
  const { policies, rows } = report.whatIf;
  out.push(...policies.map((p, i) => `  [${i + 1}] ${p.label}`));
  const head = ['route', 'decisions', ...policies.map((_, i) => `[${i + 1}]`)];
  const body = rows
    .slice(0, ROUTES_SHOWN + 1)
    .map((r) => [
      r.all ? 'all routes' : routeName(r.route),
      count(r.decisions),
      ...r.results.map((x) => `${count(x.blocked)} ${percent(x.share)}`),
    ]);
  out.push(table([head, ...body]));
  const behind = rows[0]!.results
    .map((r, i) =>
      r.top.length === 0
        ? undefined
        : `  [${i + 1}] ${r.top.map((p) => `${pairName(p)} ${percent(p.share)}`).join(', ')}`,
    )
    .filter((l) => l !== undefined);
  if (behind.length > 0) out.push('  biggest pairs behind the blocks, all routes:', ...behind);
  out.push(...signalWhatIf(report, ROUTES_SHOWN + 1));

  out.push('', 'Provider errors');
  out.push(report.errors.length === 0 ? '  none' : table(report.errors.map((e) => [e.code, count(e.count)])));
  out.push(...signalSections(report));
  if (report.phones) {
    const p = report.phones;
    out.push(
      '',
      `Numbers (keyed lines): ${count(p.distinct)} distinct, ${count(p.repeated)} seen more than once`,
    );
  }
  return printableLines(`${out.join('\n')}\n`);
}
