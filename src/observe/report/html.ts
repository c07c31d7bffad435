/** The report as one self-contained HTML page, every log field escaped. */
import type { Report } from './figures.js';
import { badLineName, count, day, inForce, pairName, percent, routeName } from './format.js';
import { signalSections, signalWhatIfTable } from './html-signals.js';
import { barList, COLORS, esc, heatmap, stackedBars } from './svg.js';
import { UNIT_RULE } from './timeline.js';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;margin:0;background:#fafafa}
main{max-width:920px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}h3{font-size:14px;margin:18px 0 6px}
section table{margin-bottom:8px}
.sub{color:#666}.lead{font-size:16px;margin:16px 0}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.card{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:22px}.card span{color:#666;font-size:12px}
svg{display:block;max-width:100%;height:auto;font-size:12px;background:#fff}
.tick{fill:#777;font-size:11px}.axis{fill:#777;font-size:11px}.num{font-size:11px}
table{border-collapse:collapse;background:#fff;width:100%}
th,td{border:1px solid #e3e3e3;padding:4px 8px;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}th{background:#f3f3f3;font-weight:600}
td small{color:#666;display:block}.legend span{margin-right:14px}
#what-if-signals{font-size:11px}#what-if-signals th,#what-if-signals td{padding:3px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:-1px}
.none{color:#666}code{font-size:12px}
`;

const legend = () =>
  `<p class="legend">${(['allow', 'flag', 'block'] as const).map((a) => `<span><i style="background:${COLORS[a]}"></i>${a}</span>`).join('')}</p>`;

const card = (figure: string, value: number, text: string, label: string) =>
  `<div class="card" data-figure="${figure}" data-value="${value}"><b>${esc(text)}</b><span>${esc(label)}</span></div>`;

function whatIfTable(report: Report): string {
  const { policies, rows } = report.whatIf;
  const head = `<tr><th>Route</th><th>Decisions</th>${policies.map((p) => `<th>${esc(p.label)}</th>`).join('')}</tr>`;
  const body = rows
    .map((r) => {
      const name = r.all ? 'All routes' : routeName(r.route);
      const cells = r.results
        .map((x) => {
          const behind = x.top.map((p) => `${pairName(p)} ${percent(p.share)}`).join(', ');
          return (
            `<td data-policy="${esc(x.policy)}" data-blocked="${x.blocked}">${percent(x.share)}` +
            `<small>${count(x.blocked)} blocked</small>${behind ? `<small>${esc(behind)}</small>` : ''}</td>`
          );
        })
        .join('');
      return `<tr data-route="${esc(r.all ? '*' : (r.route ?? ''))}"><td>${esc(name)}</td><td>${count(r.decisions)}</td>${cells}</tr>`;
    })
    .join('');
  return `<table id="what-if">${head}${body}</table>`;
}

function routesTable(report: Report): string {
  const head =
    '<tr><th>Route</th><th>Decisions</th><th>Allowed</th><th>Flagged</th><th>Blocked</th>' +
    '<th>Policy: block</th><th>Mismatch</th><th>Unknown</th></tr>';
  const body = report.routes
    .map(
      (r) =>
        `<tr><td>${esc(routeName(r.route))}</td><td>${count(r.decisions)}</td><td>${count(r.byAction.allow)}</td>` +
        `<td>${count(r.byAction.flag)}</td><td>${count(r.byAction.block)}</td><td>${count(r.byPolicyAction.block)}</td>` +
        `<td>${count(r.byMatchLevel.mismatch)}</td><td>${count(r.byMatchLevel.unknown)}</td></tr>`,
    )
    .join('');
  return `<table id="routes">${head}${body}</table>`;
}

function badLines(report: Report): string {
  const { bad } = report.input;
  if (bad.count === 0) return '';
  const first = bad.first
    .map((b) => `<li><code>${esc(badLineName(b))}</code> ${esc(b.problem)}</li>`)
    .join('');
  return `<h2>Bad lines</h2><p>${count(bad.count)} ${bad.count === 1 ? 'line was not a decision and was' : 'lines were not decisions and were'} skipped. The first:</p><ul>${first}</ul>`;
}

/**
 * The report as one HTML page: inline CSS and SVG, no script, no font, no request of any kind, so that it
 * opens offline and can be mailed around. Every number on it is one of `--json`'s.
 */
export function reportPage(report: Report): string {
  const { totals, pairs } = report;
  const blocked = inForce(report);
  const top = pairs.top[0];
  const lead =
    `Enforcing the policy in force would block <b>${percent(blocked.share)}</b> of decisions ` +
    `(${count(blocked.blocked)} of ${count(totals.decisions)})` +
    (top
      ? `; the biggest mismatch is phone ${esc(top.phoneCountry)} from an IP in ${esc(top.ipCountry)}.`
      : '.');
  const reasons = Object.entries(totals.byReason);
  const errors =
    report.errors.length === 0
      ? '<p class="none">None.</p>'
      : `<table id="errors"><tr><th>Code</th><th>Count</th></tr>${report.errors.map((e) => `<tr><td>${esc(e.code)}</td><td>${count(e.count)}</td></tr>`).join('')}</table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>ipmatch report</title><style>${STYLE}</style></head>
<body><main>
<h1>ipmatch report</h1>
<p class="sub">${esc(day(report.span.from))} → ${esc(day(report.span.to))} UTC · ${esc(report.input.sources.join(', '))}</p>
<p class="lead">${lead}</p>
<div class="cards">
${card('decisions', totals.decisions, count(totals.decisions), 'decisions')}
${card('mismatches', pairs.mismatches, count(pairs.mismatches), 'mismatches')}
${card('in-force-blocked', blocked.blocked, percent(blocked.share), `blocked by the policy in force (${count(blocked.blocked)})`)}
${card('flagged', totals.byAction.flag, count(totals.byAction.flag), 'flagged (observe mode)')}
${card('bad-lines', report.input.bad.count, count(report.input.bad.count), 'bad lines skipped')}
</div>
<h2>Decisions per ${report.timeline.unit}, by what the policy decided</h2>
<p class="sub" id="timeline-unit">Counted ${UNIT_RULE[report.timeline.unit]}.</p>
${legend()}
${stackedBars(report.timeline.buckets, report.timeline.unit)}
<h2>What if: the share of each route's decisions a policy would block</h2>
${whatIfTable(report)}
<h2>What if a signal were <code>'block'</code> too: the share of each route's decisions it would add</h2>
${signalWhatIfTable(report)}
<h2>Mismatches: phone country × IP country (top ${pairs.top.length} pairs of ${count(pairs.mismatches)})</h2>
${heatmap(pairs.top)}
<h2>Reasons</h2>
${barList(reasons, totals.decisions)}
<h2>Routes</h2>
${routesTable(report)}
<h2>Signals by family, and what blocking each would add</h2>
${signalSections(report)}
<h2>Provider errors</h2>
${errors}
${badLines(report)}
</main></body></html>
`;
}
