/**
 * Same-run A/B of the time inside a route's middleware: the same route server started under two or more
 * environments (say a lever read from an environment variable while it is tried), sent the same stream in
 * rotated 1 s bursts, and compared by µs inside the middleware and CPU per request, pooled over the rounds.
 *
 *   npx tsx bench/middleware-ab.ts --server=ipmatch --stream=hot --rounds=15 \
 *     --variant=old:LEVER=0 --variant=new:LEVER=1 [--variant=floor@floor:]
 *
 * A variant is `name[@server[@tree]]:VAR=value,VAR=value`; its server defaults to --server, its tree (a checkout
 * of the repository, say an older commit's, with node_modules linked) to this one.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { ask, benchFile, nextMessage } from './children.js';
import { burst } from './load.js';
import type { FromServer } from './route-server.js';
import type { ServerKind } from './servers.js';
import { buildStreams, type Signup } from './streams.js';

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const variants = process.argv
  .filter((a) => a.startsWith('--variant='))
  .map((a) => {
    const spec = a.slice('--variant='.length);
    const colon = spec.indexOf(':');
    const [name, server, tree] = spec.slice(0, colon).split('@') as [string, string?, string?];
    const env = Object.fromEntries(
      spec
        .slice(colon + 1)
        .split(',')
        .filter(Boolean)
        .map((kv) => kv.split('=') as [string, string]),
    );
    const kind = (server || arg('server', 'ipmatch')) as ServerKind;
    return { name, server: kind, tree, env };
  });
/** Node flags for every server (--node-arg=--trace-deopt), e.g. a profile of each variant. */
const nodeArgs = process.argv
  .filter((a) => a.startsWith('--node-arg='))
  .map((a) => a.slice('--node-arg='.length));
const stream = arg('stream', 'hot') as 'hot' | 'cold';
const rounds = Number(arg('rounds', '15'));
const streams = buildStreams();

const servers = await Promise.all(
  variants.map(async (v) => {
    const file = v.tree ? join(v.tree, 'bench', 'route-server.ts') : benchFile('route-server.ts');
    const child = fork(file, [v.server], {
      execArgv: [...nodeArgs, '--import', 'tsx'],
      env: { ...process.env, ...v.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const { port } = await nextMessage<Extract<FromServer, { type: 'ready' }>>(child, 'ready');
    let k = 0;
    const next = (): Signup =>
      stream === 'hot' ? streams.hot[k++ % streams.hot.length]! : streams.cold(k++);
    return {
      ...v,
      child,
      port,
      next,
      us: 0,
      passed: 0,
      cpuUs: 0,
      requests: 0,
      perRound: [] as number[],
      p50: [] as number[],
      p90Mean: [] as number[],
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
    s.us += m.middlewareUs;
    s.passed += m.passed;
    s.cpuUs += m.cpuUs;
    s.requests += m.requests;
    s.perRound.push(m.middlewareUs / Math.max(1, m.passed));
    s.p50.push(m.middlewareP50Us);
    s.p90Mean.push(m.middlewareP90MeanUs);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(
  `${stream} stream, ${rounds} rounds; µs inside the middleware (pooled, median of rounds), CPU µs/request; ` +
    'robust to preemption, medians over rounds: each round’s median call, its mean below p90, and that mean ' +
    'minus the first variant’s in the same round',
);
const first = servers[0]!;
for (const s of servers) {
  const paired = s.p90Mean.map((x, r) => x - first.p90Mean[r]!);
  console.log(
    `  ${s.name.padEnd(12)} ${(s.us / s.passed).toFixed(2).padStart(7)} ${median(s.perRound).toFixed(2).padStart(7)}` +
      `  cpu ${(s.cpuUs / s.requests).toFixed(1)}` +
      `  p50 ${median(s.p50).toFixed(2)} p90-mean ${median(s.p90Mean).toFixed(2)} (${median(paired) >= 0 ? '+' : ''}${median(paired).toFixed(2)})`,
  );
  s.child.send({ type: 'quit' });
}
