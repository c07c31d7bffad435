/**
 * Cold start on Node, as a serverless or freshly scaled-out process pays it: a whole process that imports
 * `ipmatch/express` from the built package (dist/, as installed), builds the middleware and decides once,
 * against `node -e 0` started the same way. The two alternate, and the figure is the median over the pairs of
 * (probe − baseline) wall time, start to exit. The probe also reports its own import and first-decision times,
 * and the files and bytes of dist/ that `ipmatch/express` imports statically.
 *
 *   npx tsx bench/cold-start.ts [--quick] [--runs=N] [--phone=parser]
 *   npx tsx bench/cold-start.ts --trees=/tmp/before,/tmp/after [--runs=N] [--phone=parser]
 *
 * Inside the probe, the first decision is also split into `createIpMatch()` + `ipMatch(core)` and the first
 * `check()`, each with its CPU time, and the probe's own CPU to its decision: the figures to read first on a busy
 * machine, where wall time swings by tens of ms.
 *
 * `--phone=parser` decides a national number ('07400 123456', default country GB), which the phone fast path
 * leaves to libphonenumber-js's parser, loaded on that first need. `--trees` is a lever's same-run A/B: each
 * directory holds a built copy of the package (e.g. `git archive <commit> | tar -x -C /tmp/before`, node_modules
 * symlinked, `npx tsup`); every round measures each tree's pair, in an order reversed every other round.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
  /**
   * The first decision's two parts, wall and CPU (`process.cpuUsage()`), and the probe's CPU from start to its
   * decision (`process.resourceUsage()`): on a busy machine CPU time moves far less than wall time, so a lever's
   * A/B reads these first.
   */
  createMs: number;
  checkMs: number;
  createCpuMs: number;
  checkCpuMs: number;
  processCpuMs: number;
  /** The probe's lowest and highest (probe − baseline) pair, in ms. */
  range: [number, number];
  /** The files of dist/ that `import('ipmatch/express')` loads before anything runs, and their bytes. */
  importFiles: number;
  importBytes: number;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const PHONES = {
  fast: "{ phone: '+447400123456', ip: '81.2.69.160' }",
  parser: "{ phone: '07400 123456', ip: '81.2.69.160', country: 'GB' }",
};

// Resolved through the package's own name and `exports` (self-reference), so it loads dist/ as a user's app does.
const probe = (input: string) => `
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const t0 = performance.now();
const { ipMatch, createIpMatch } = await import('ipmatch/express');
const t1 = performance.now(), c1 = cpu();
const core = createIpMatch();
ipMatch(core);
const tc = performance.now(), cc = cpu();
const decision = await core.check(${input});
const t2 = performance.now(), c2 = cpu();
if (decision.matchLevel !== 'country') throw new Error('unexpected decision: ' + decision.reason);
const r = process.resourceUsage();
console.log(JSON.stringify({ importMs: t1 - t0, firstDecisionMs: t2 - t1, createMs: tc - t1, checkMs: t2 - tc,
  createCpuMs: cc - c1, checkCpuMs: c2 - cc, processCpuMs: (r.userCPUTime + r.systemCPUTime) / 1000 }));
`;

function timed(cwd: string, args: string[]): { ms: number; stdout: string } {
  const start = performance.now();
  const run = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  const ms = performance.now() - start;
  if (run.status !== 0) throw new Error(`cold start: node ${args[0]} in ${cwd} failed: ${run.stderr}`);
  return { ms, stdout: run.stdout };
}

/** The files of `dist` that `entry` reaches through static `import`/`export … from`, with their total bytes. */
export function staticGraph(dist: string, entry: string): { files: number; bytes: number } {
  const seen = new Set<string>();
  let bytes = 0;
  const reach = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(dist, file), 'utf8');
    bytes += Buffer.byteLength(text);
    for (const m of text.matchAll(
      /^(?:import|export)[^;]*?from\s*['"]\.\/([^'"]+)['"]|^import\s*['"]\.\/([^'"]+)['"]/gm,
    ))
      reach((m[1] ?? m[2]) as string);
  };
  reach(entry);
  return { files: seen.size, bytes };
}

/** What the probe reports about itself. */
const INSIDE = [
  'importMs',
  'firstDecisionMs',
  'createMs',
  'checkMs',
  'createCpuMs',
  'checkCpuMs',
  'processCpuMs',
] as const;

/** One tree's pairs as they accumulate. */
class Pairs {
  readonly over: number[] = [];
  readonly probe: number[] = [];
  readonly node: number[] = [];
  readonly inside: Record<(typeof INSIDE)[number], number>[] = [];
  constructor(
    readonly cwd: string,
    readonly script: string,
  ) {
    // One of each, uncounted: the file system cache.
    timed(cwd, ['-e', '0']);
    timed(cwd, ['--input-type=module', '-e', script]);
  }

  /** One pair; `probeFirst` alternates which goes first, so that neither always follows the other. */
  measure(probeFirst: boolean): void {
    let p = 0;
    let n = 0;
    for (const which of probeFirst ? ['probe', 'node'] : ['node', 'probe']) {
      if (which === 'node') n = timed(this.cwd, ['-e', '0']).ms;
      else {
        const r = timed(this.cwd, ['--input-type=module', '-e', this.script]);
        p = r.ms;
        this.inside.push(JSON.parse(r.stdout));
      }
    }
    this.probe.push(p);
    this.node.push(n);
    this.over.push(p - n);
  }

  result(): ColdStart {
    const graph = staticGraph(join(this.cwd, 'dist'), 'express.js');
    return {
      runs: this.over.length,
      overNodeMs: round(median(this.over), 1),
      probeMs: round(median(this.probe), 1),
      nodeMs: round(median(this.node), 1),
      ...(Object.fromEntries(
        INSIDE.map((k) => [k, round(median(this.inside.map((x) => x[k])), 1)]),
      ) as Record<(typeof INSIDE)[number], number>),
      range: [round(Math.min(...this.over), 1), round(Math.max(...this.over), 1)],
      importFiles: graph.files,
      importBytes: graph.bytes,
    };
  }
}

function main(): void {
  const quick = process.argv.includes('--quick');
  const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? (quick ? 7 : 21));
  const phone = process.argv.find((a) => a.startsWith('--phone='))?.slice(8) ?? 'fast';
  if (phone !== 'fast' && phone !== 'parser') throw new Error('cold start: --phone is fast or parser');
  const script = probe(PHONES[phone]);
  const trees = process.argv
    .find((a) => a.startsWith('--trees='))
    ?.slice(8)
    .split(',');
  if (trees === undefined) {
    ensureBuilt();
    const pairs = new Pairs(ROOT, script);
    for (let i = 0; i < runs; i++) pairs.measure(i % 2 === 1);
    reply(pairs.result());
    return;
  }
  const all = trees.map((t) => new Pairs(t, script));
  for (let i = 0; i < runs; i++) {
    const order = i % 2 ? [...all].reverse() : all;
    for (const pairs of order) pairs.measure(i % 2 === 1);
  }
  for (const pairs of all) console.log(JSON.stringify({ tree: pairs.cwd, ...pairs.result() }));
}

main();
