// npm audit of the production dependencies: fails on a high or critical advisory; when the advisory service
// cannot be reached (offline, a proxy, a mirror without audit), it says so and lets CI carry on.
const { spawnSync } = require('node:child_process');

const run = spawnSync('npm', ['audit', '--omit=dev', '--audit-level=high', '--json'], { encoding: 'utf8' });
if (run.status === 0) {
  console.log('no high or critical advisories');
  process.exit(0);
}
let report = {};
try {
  report = JSON.parse(run.stdout);
} catch {}
if (!report.metadata?.vulnerabilities) {
  const why = report.error?.summary || report.error?.code || report.message || run.stderr || 'no report';
  console.log(`!! npm audit skipped: the advisory service did not answer (${String(why).split('\n')[0]})`);
  process.exit(0);
}
for (const [name, v] of Object.entries(report.vulnerabilities ?? {})) {
  if (v.severity !== 'high' && v.severity !== 'critical') continue;
  const via = (v.via ?? []).map((a) => (typeof a === 'object' ? `${a.title} ${a.url}` : `via ${a}`));
  console.log(`!! ${v.severity}: ${name}: ${via.join('; ')}`);
}
console.log(
  '!! npm audit found high or critical advisories in production dependencies: run `npm audit --omit=dev`',
);
process.exit(1);
