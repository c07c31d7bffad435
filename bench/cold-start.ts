/**
 * Cold start on Node, as a serverless or freshly scaled-out process pays it: a whole process that imports
 * `ipmatch/express` from the built package (dist/, as installed), builds the middleware and decides once,
 * against `node -e 0` started the same way. The two alternate, and the figure is the median over the pairs of
 * (probe − baseline) wall time, start to exit. The probe also reports its own import and first-decision times.
 *
 *   npx tsx bench/cold-start.ts [--quick] [--runs=N]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { reply } from './children.js';
import { ensureBuilt } from './dist.js';
import { median, round } from './stats.js';

export interface ColdStart {
  runs: number;
  /** Median over pairs of the probe's wall time minus `node -e 0`'s, in ms: the target's figure. */
  overNodeMs: number;
  /** Medians of the two processes' own wall times, in ms. */
  probeMs: number;
  nodeMs: number;
  /** Inside the probe: `await import('ipmatch/express')`, then `ipMatch()` + the first decision, in ms. */
  importMs: number;
  firstDecisionMs: number;
  /** The probe's lowest and highest (probe − baseline) pair, in ms. */
  range: [number, number];
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// Resolved through the package's own name and `exports` (self-reference), so it loads dist/ as a user's app does.
const PROBE = `
const t0 = performance.now();
const { ipMatch, createIpMatch } = await import('ipmatch/express');
const t1 = performance.now();
const core = createIpMatch();
ipMatch(core);
const decision = await core.check({ phone: '+447400123456', ip: '81.2.69.160' });
const t2 = performance.now();
if (decision.matchLevel !== 'country') throw new Error('unexpected decision: ' + decision.reason);
console.log(JSON.stringify({ importMs: t1 - t0, firstDecisionMs: t2 - t1 }));
`;

function timed(args: string[]): { ms: number; stdout: string } {
  const start = performance.now();
  const run = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  const ms = performance.now() - start;
  if (run.status !== 0) throw new Error(`cold start: node ${args[0]} failed: ${run.stderr}`);
  return { ms, stdout: run.stdout };
}

function main(): void {
  const quick = process.argv.includes('--quick');
  const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? (quick ? 7 : 21));
  ensureBuilt();
  // One of each, uncounted: the file system cache.
  timed(['-e', '0']);
  timed(['--input-type=module', '-e', PROBE]);
  const over: number[] = [];
  const probe: number[] = [];
  const node: number[] = [];
  const inside: { importMs: number; firstDecisionMs: number }[] = [];
  for (let i = 0; i < runs; i++) {
    // Alternate which goes first, so that neither always follows the other.
    const pair = i % 2 ? ['probe', 'node'] : ['node', 'probe'];
    let p = 0;
    let n = 0;
    for (const which of pair) {
      if (which === 'node') n = timed(['-e', '0']).ms;
      else {
        const r = timed(['--input-type=module', '-e', PROBE]);
        p = r.ms;
        inside.push(JSON.parse(r.stdout));
      }
    }
    probe.push(p);
    node.push(n);
    over.push(p - n);
  }
  const result: ColdStart = {
    runs,
    overNodeMs: round(median(over), 1),
    probeMs: round(median(probe), 1),
    nodeMs: round(median(node), 1),
    importMs: round(median(inside.map((x) => x.importMs)), 1),
    firstDecisionMs: round(median(inside.map((x) => x.firstDecisionMs)), 1),
    range: [round(Math.min(...over), 1), round(Math.max(...over), 1)],
  };
  reply(result);
}

main();
