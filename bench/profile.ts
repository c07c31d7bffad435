/**
 * Where the time goes, under `node --cpu-prof`: prints the top functions by self time within the counted
 * window only (start-up and warm-up excluded), with file:line in the TypeScript sources (mapped through tsx's
 * source maps), and the share of each package. The raw .cpuprofile stays in $TMPDIR/ipmatch-bench-profiles/
 * for Chrome DevTools or speedscope.
 *
 * - Route servers (default ipmatch and bare), side by side: 1 s bursts of the hot or cold stream in turn.
 * - `--target=vonage`: bench/vonage-path.ts, with its latency waves and its hung checks as two windows.
 *
 *   npx tsx bench/profile.ts [--stream=cold|hot] [--servers=ipmatch,bare] [--rounds=5] [--top=25]
 *     (servers: ipmatch, bare, bare-ip, rate-limit, naive; the first is compared with the others)
 *   npx tsx bench/profile.ts --target=vonage [--top=25]
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { findSourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ask, forkTs, nextMessage, runChild } from './children.js';
import { burst } from './load.js';
import type { FromServer } from './route-server.js';
import type { ServerKind } from './servers.js';
import { buildStreams, type Signup } from './streams.js';
import type { VonagePath } from './vonage-path.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where a frame is, in the sources a reader opens: TypeScript files through tsx's source maps. */
async function locate(frame: CallFrame): Promise<string> {
  if (!frame.url) return '';
  const line = frame.lineNumber + 1;
  if (frame.url.startsWith('file://') && frame.url.endsWith('.ts')) {
    // The same file loaded here gets the same transform, so its source map answers for the child's code.
    await import(frame.url).catch(() => undefined);
    const entry = findSourceMap(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber);
    const mapped = entry && 'originalLine' in entry ? entry.originalLine + 1 : line;
    return `${fileURLToPath(frame.url).replace(ROOT, '')}:${mapped}`;
  }
  const path = frame.url.startsWith('file://') ? fileURLToPath(frame.url).replace(ROOT, '') : frame.url;
  return `${path}:${line}`;
}

/** The package (or part of ipmatch) a frame belongs to, for the summary by owner. */
function owner(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const src = /\/src\/([^/]+\/)?/.exec(url);
  if (src) return `ipmatch src/${src[1] ?? ''}`;
  return url.includes('/bench/') ? 'bench' : url;
}

type Window = [number, number];
const frameKey = (f: CallFrame) => `${f.functionName}|${f.url}|${f.lineNumber}|${f.columnNumber}`;

/** Self time per function within the windows (µs on the hrtime clock), and per owner. */
function selfTimes(p: CpuProfile, windows: readonly Window[]) {
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<number, number>();
  const inside = (t: number) => windows.some(([from, to]) => t >= from && t <= to);
  let t = p.startTime;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    const next = p.timeDeltas[i + 1] ?? 0;
    if (!inside(t)) continue;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + next);
    total += next;
  }
  const byFunction = new Map<string, { frame: CallFrame; us: number }>();
  const byOwner = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id)!;
    const key = frameKey(frame);
    const entry = byFunction.get(key) ?? { frame, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    byOwner.set(owner(frame), (byOwner.get(owner(frame)) ?? 0) + us);
  }
  return { total, byFunction, byOwner };
}

type SelfTimes = ReturnType<typeof selfTimes>;
const sorted = <T>(m: Map<T, number>) => [...m].sort((a, b) => b[1] - a[1]);

/** Profiles go to the system's temporary directory: tens of MB that have no place in the repository. */
function freshDir(name: string): string {
  const dir = join(tmpdir(), 'ipmatch-bench-profiles', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

function readProfile(dir: string): { profile: CpuProfile; path: string } {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${dir}`);
  return { profile: JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, path: join(dir, file) };
}

/** Prints self time by owner and the top functions; `per` names the unit costs are divided by. */
async function print(times: SelfTimes, per: { n: number; what: string }, top: number) {
  const each = (us: number) => (us / per.n).toFixed(1).padStart(7);
  const pct = (us: number) => ((100 * us) / times.total).toFixed(1).padStart(5);
  console.log(`\nself time by owner (% of the sampled window, µs per ${per.what})`);
  for (const [name, us] of sorted(times.byOwner).slice(0, 16))
    console.log(`  ${pct(us)}%  ${each(us)}  ${name}`);
  console.log(`\ntop ${top} functions by self time (% of window, µs per ${per.what})`);
  const fns = [...times.byFunction.values()].sort((a, b) => b.us - a.us);
  for (const { frame, us } of fns.slice(0, top)) {
    console.log(
      `  ${pct(us)}%  ${each(us)}  ${(frame.functionName || '(anonymous)').padEnd(34)} ${await locate(frame)}`,
    );
  }
}

interface Profiled {
  name: ServerKind;
  times: SelfTimes;
  requests: number;
  cpuUs: number;
  mainUs: number;
  gcPauseUs: number;
  path: string;
}

/** The first server against the others, side by side, in µs per request: by owner, then by function. */
async function compare(runs: Profiled[], top: number) {
  const per = (r: Profiled, us: number | undefined) => ((us ?? 0) / r.requests).toFixed(1).padStart(9);
  const head = runs.map((r) => r.name.padStart(9)).join('');
  console.log(`\nself time by owner, µs per request (main thread, sampled)\n  ${head}`);
  const owners = sorted(runs[0]!.times.byOwner).map(([name]) => name);
  for (const r of runs.slice(1))
    for (const [name] of sorted(r.times.byOwner)) if (!owners.includes(name)) owners.push(name);
  for (const name of owners.slice(0, 18)) {
    console.log(`  ${runs.map((r) => per(r, r.times.byOwner.get(name))).join('')}  ${name}`);
  }
  console.log(`  ${runs.map((r) => per(r, r.times.total)).join('')}  total sampled`);
  const bare = runs.find((r) => r.name === 'bare');
  if (bare) {
    // What the first server runs and bare Express never does: the middleware's own work, function by function.
    const own = [...runs[0]!.times.byFunction.values()]
      .filter(({ frame }) => !bare.times.byOwner.has(owner(frame)))
      .sort((a, b) => b.us - a.us);
    const sum = own.reduce((a, f) => a + f.us, 0);
    console.log(
      `\n${runs[0]!.name}'s own work (owners bare Express never runs): ${per(runs[0]!, sum).trim()} µs per request` +
        ` sampled; top ${top}`,
    );
    for (const { frame, us } of own.slice(0, top)) {
      console.log(
        `  ${per(runs[0]!, us)}  ${(frame.functionName || '(anonymous)').padEnd(30)} ${await locate(frame)}`,
      );
    }
  }
  console.log(`\ntop ${top} functions of ${runs[0]!.name} by self time, µs per request\n  ${head}`);
  const fns = [...runs[0]!.times.byFunction.entries()].sort((a, b) => b[1].us - a[1].us);
  for (const [key, { frame }] of fns.slice(0, top)) {
    const cells = runs.map((r) => per(r, r.times.byFunction.get(key)?.us)).join('');
    console.log(`  ${cells}  ${(frame.functionName || '(anonymous)').padEnd(30)} ${await locate(frame)}`);
  }
}

/**
 * Profiles route servers side by side: each under --cpu-prof, sent 1 s bursts in turn (the order rotated each
 * round), so that every server sees the same noise. Each server's figures count only its own bursts.
 */
async function profileRoute(top: number): Promise<void> {
  const stream = arg('stream', 'cold') as 'hot' | 'cold';
  const kinds = arg('servers', 'ipmatch,bare').split(',') as ServerKind[];
  const rounds = Number(arg('rounds', '5'));
  const streams = buildStreams();
  const servers = await Promise.all(
    kinds.map(async (name) => {
      const dir = freshDir(`${name}-${stream}`);
      const child = forkTs('route-server.ts', [name], ['--cpu-prof', '--cpu-prof-dir', dir]);
      const { port } = await nextMessage<Extract<FromServer, { type: 'ready' }>>(child, 'ready');
      let k = 0;
      const next = (): Signup =>
        stream === 'hot' ? streams.hot[k++ % streams.hot.length]! : streams.cold(k++);
      return {
        name,
        dir,
        child,
        port,
        next,
        windows: [] as Window[],
        requests: 0,
        cpuUs: 0,
        mainUs: 0,
        gcPauseUs: 0,
      };
    }),
  );
  for (const s of servers) await burst(s.port, s.next, 1);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < servers.length; i++) {
      const s = servers[(i + r) % servers.length]!;
      await ask(s.child, { type: 'start' }, 'started');
      await burst(s.port, s.next, 1);
      const m = await ask<Extract<FromServer, { type: 'stopped' }>>(s.child, { type: 'stop' }, 'stopped');
      s.windows.push(m.windowUs);
      s.requests += m.requests;
      s.cpuUs += m.cpuUs;
      s.mainUs += m.mainUs;
      s.gcPauseUs += m.gcPauseUs;
    }
  }
  const runs: Profiled[] = [];
  for (const s of servers) {
    s.child.send({ type: 'quit' });
    await new Promise((resolve) => s.child.once('exit', resolve));
    const { profile, path } = readProfile(s.dir);
    runs.push({ ...s, times: selfTimes(profile, s.windows), path });
  }
  console.log(`${stream} stream, ${rounds} rounds of 1 s bursts per server, rotated; per request:`);
  for (const r of runs) {
    const per = (us: number) => (us / r.requests).toFixed(0);
    console.log(
      `  ${r.name.padEnd(10)} ${r.requests} requests · ${per(r.cpuUs)} µs CPU (all threads) · ${per(r.mainUs)} µs ` +
        `main thread · ${per(r.gcPauseUs)} µs GC pauses · ${r.path}`,
    );
  }
  if (runs.length > 1) await compare(runs, top);
  else await print(runs[0]!.times, { n: runs[0]!.requests, what: 'request' }, top);
}

async function profileVonage(top: number): Promise<void> {
  const dir = freshDir('vonage');
  const v = await runChild<VonagePath>('vonage-path.ts', ['--quick'], ['--cpu-prof', '--cpu-prof-dir', dir]);
  const { profile, path } = readProfile(dir);
  console.log(
    `Vonage path: ${v.waves} waves of ${v.concurrency} concurrent checks, added p50 ${v.addedP50} ms, p99 ` +
      `${v.addedP99} ms, ${v.cpuUsPerCheck} µs CPU/check; profile ${path}`,
  );
  await print(selfTimes(profile, v.windowsUs.latency), { n: v.waves * v.concurrency, what: 'check' }, top);
  console.log(
    `\nhung upstream: ${v.hung.concurrency} checks, timeoutMs ${v.hung.timeoutMs}, worst ${v.hung.worstMs} ms`,
  );
  await print(selfTimes(profile, [v.windowsUs.hung]), { n: v.hung.concurrency, what: 'check' }, top);
}

const top = Number(arg('top', '25'));
if (arg('target', 'route') === 'vonage') await profileVonage(top);
else await profileRoute(top);
