/** The report page's signal sections, one per family, every name from a log escaped. */
import type { Report } from './figures.js';
import { count, percent, routeName } from './format.js';
import { esc } from './svg.js';
import { signalColumns, VELOCITY_ROWS } from './terminal-signals.js';

const none = '<p class="none">None.</p>';

function signalTable(report: Report, family: string): string {
  const rows = report.signals.filter((s) => s.family === family);
  if (rows.length === 0) return none;
  const body = rows
    .map(
      (s) =>
        `<tr data-signal="${esc(s.signal)}" data-count="${s.count}" data-if-blocked="${s.ifBlocked}">` +
        `<td>${esc(s.signal)}</td><td>${count(s.count)}</td><td>${count(s.ifBlocked)} (${percent(s.ifBlockedShare)})</td></tr>`,
    )
    .join('');
  return `<table class="signals"><tr><th>Signal</th><th>Decisions</th><th>Blocking it would add</th></tr>${body}</table>`;
}

/** Name → count rows, as for the networks and the number types. */
function namedTable(id: string, head: string, entries: [string, number][]): string {
  if (entries.length === 0) return '';
  const body = entries
    .map(
      ([name, n]) =>
        `<tr data-name="${esc(name)}" data-count="${n}"><td>${esc(name)}</td><td>${count(n)}</td></tr>`,
    )
    .join('');
  return `<table id="${id}"><tr><th>${head}</th><th>Decisions</th></tr>${body}</table>`;
}

function velocityTables(report: Report): string {
  const v = report.velocity;
  const parts: string[] = [];
  if (v) {
    const head = `<tr><th>Count (this request included)</th>${v.buckets.map((b) => `<th>${esc(b)}</th>`).join('')}<th>Max</th></tr>`;
    const body = VELOCITY_ROWS.map(([key, name]) => {
      const cells = v[key].buckets
        .map((n, i) => `<td data-bucket="${esc(v.buckets[i]!)}" data-value="${n}">${count(n)}</td>`)
        .join('');
      return `<tr data-count="${key}"><td>${esc(name)}</td>${cells}<td data-max="${v[key].max}">${count(v[key].max)}</td></tr>`;
    }).join('');
    parts.push(
      `<p class="sub">How the counts of ${count(v.counted)} decisions spread, to set thresholds by (0: not counted).</p>`,
      `<table id="velocity-counts" data-counted="${v.counted}">${head}${body}</table>`,
    );
  } else {
    parts.push('<p class="none">No decision carried velocity counts.</p>');
  }
  const p = report.prefixes;
  if (p && p.top.length > 0) {
    // Past its counters a count may run high: by how much at most, only then.
    const over = (n: number) => (p.approximate ? `<td>${n > 0 ? `at most ${count(n)}` : 'exact'}</td>` : '');
    const body = p.top
      .map(
        (b) =>
          `<tr data-prefix="${esc(b.prefixKey)}" data-count="${b.count}"><td><code>${esc(b.prefixKey)}</code></td>` +
          `<td>${count(b.count)}</td>${over(b.overcount)}</tr>`,
      )
      .join('');
    const head = `<tr><th>Block (prefixKey)</th><th>Decisions</th>${p.approximate ? '<th>Over by</th>' : ''}</tr>`;
    parts.push(
      `<h3>Blocks of numbers seen most, by keyed label (of ${count(p.keyedLines)} keyed decisions)</h3>`,
      `<table id="prefixes">${head}${body}</table>`,
    );
  }
  return parts.join('\n');
}

/**
 * A section per signal family, in the order of observe/signal-families.ts: its signals with what blocking each
 * would add, then what it knows besides (networks, number types, the velocity counts, the busiest blocks).
 */
export function signalSections(report: Report): string {
  return report.families
    .map((f) => {
      const extra =
        f.family === 'ip_nature'
          ? namedTable(
              'networks',
              'Network',
              report.networks.map((n) => [n.network, n.count]),
            )
          : f.family === 'number'
            ? namedTable(
                'phone-types',
                'Number type',
                report.phoneTypes.map((t) => [t.type, t.count]),
              )
            : f.family === 'velocity'
              ? velocityTables(report)
              : '';
      return (
        `<section id="family-${esc(f.family)}" data-family="${esc(f.family)}" data-decisions="${f.decisions}">` +
        `<h3>${esc(f.title)}: ${count(f.decisions)} ${f.decisions === 1 ? 'decision' : 'decisions'}</h3>` +
        `${signalTable(report, f.family)}\n${extra}</section>`
      );
    })
    .join('\n');
}

/** Per route, what blocking each signal would add to the policy in force: a column per signal that adds any. */
export function signalWhatIfTable(report: Report): string {
  const columns = signalColumns(report);
  if (columns.length === 0) return '<p class="none">No signal whose block would change a decision.</p>';
  // A line may break after each underscore of a signal's name: a column per signal still fits the page.
  const head = `<tr><th>Route</th><th>Decisions</th>${columns.map((c) => `<th>${esc(c).replaceAll('_', '_<wbr>')}</th>`).join('')}</tr>`;
  const body = report.whatIf.rows
    .map((r) => {
      const added = new Map(r.signals.map((s) => [s.signal, s]));
      const cells = columns
        .map((c) => {
          const s = added.get(c);
          const blocked = s?.blocked ?? 0;
          return `<td data-signal="${esc(c)}" data-blocked="${blocked}">${percent(s?.share ?? 0)}<small>${count(blocked)} more blocked</small></td>`;
        })
        .join('');
      const name = r.all ? 'All routes' : routeName(r.route);
      return `<tr data-route="${esc(r.all ? '*' : (r.route ?? ''))}"><td>${esc(name)}</td><td>${count(r.decisions)}</td>${cells}</tr>`;
    })
    .join('');
  return `<table id="what-if-signals">${head}${body}</table>`;
}
