import type { ChildProcess } from 'node:child_process';
import { ask, forkTs, nextMessage } from './children.js';
import { type Burst, burst, CONNECTIONS } from './load.js';
import type { FromServer } from './route-server.js';
import { SERVER_KINDS, type ServerKind } from './servers.js';
import { bootstrap, median, round } from './stats.js';
import type { Signup, Streams } from './streams.js';

/**
 * `bare-twin` is a second bare Express server: its ratio to `bare` is the noise floor of the run. The naive
 * lookup is left out unless asked for, to keep the run short.
 */
export type ServerName = ServerKind | 'bare-twin';
export const ALL_SERVERS = [...(Object.keys(SERVER_KINDS) as ServerKind[]), 'bare-twin'] as ServerName[];
export const DEFAULT_SERVERS: ServerName[] = [
  'bare',
  'bare-twin',
  'floor',
  'ipmatch',
  'ipmatch-novelocity',
  'rate-limit',
  'koa-bare',
  'koa-floor',
  'koa-ipmatch',
  'koa-ipmatch-novelocity',
  'fastify-bare',
  'fastify-floor',
  'fastify-ipmatch',
  'hono-bare',
  'hono-floor',
  'hono-ipmatch',
];
export type StreamName = 'hot' | 'cold';

const kindOf = (name: ServerName): ServerKind => (name === 'bare-twin' ? 'bare' : name);
const frameworkOf = (name: ServerName) => SERVER_KINDS[kindOf(name)].framework;
/** The server of `role` on the same framework as `name`, when one runs. */
export const peer = (name: ServerName, role: 'bare' | 'floor', servers: readonly ServerName[]) =>
  servers.find(
    (s) => s !== 'bare-twin' && SERVER_KINDS[s].role === role && frameworkOf(s) === frameworkOf(name),
  );

export interface Sample extends Burst {
  /** Server CPU (user + system, every thread) per request it received in the counted window, in µs. */
  cpuUsPerRequest: number;
  /** Of which the main thread's; the rest is V8's helper threads (parallel and concurrent GC) and libuv's. */
  mainUsPerRequest: number;
  /** Main-thread GC pauses per request, in µs, and the major GCs in the window. */
  gcPauseUsPerRequest: number;
  majorGcs: number;
  /** Floor and ipmatch servers: µs inside the middleware over the requests it passed on, and how many. */
  middlewareUs: number;
  passed: number;
  deferred: number;
}

/** Medians over rounds of a server's absolute figures. */
export interface Breakdown {
  cpuUs: number;
  mainUs: number;
  otherThreadsUs: number;
  gcPauseUs: number;
  majorGcsPerRound: number;
  rps: number;
  /**
   * Floor and ipmatch servers: wall time inside the middleware per request it passed on, from its call to its
   * call of next, pooled over the rounds. Synchronous code timed by the clock, so it resolves fractions of a
   * µs where the CPU ratios resolve percents; it leaves out what the middleware costs elsewhere (GC, caches).
   */
  middlewareUs?: number;
  /** Set when the middleware passed requests on only after an await, so that none was timed. */
  middlewareDeferred?: boolean;
}

export interface StreamResult {
  /**
   * Median over rounds of each server's ratio to its framework's bare server in the same round. On Express
   * that is the mean of `bare` and `bare-twin`, and `bare` alone for the twin (so that the twin shows the noise).
   */
  cpuRatio: Partial<Record<ServerName, number>>;
  /**
   * ipmatch servers against their framework's floor server (a no-op middleware reading the IP), pooled over
   * the rounds: the server's CPU summed over every round, per request it received in them, over the floor's.
   * Pooling weighs each round by its requests, and uses every round's information where a median keeps one.
   */
  floorRatio: Partial<Record<ServerName, number>>;
  /**
   * A 90% interval around `floorRatio`: the pooled ratio over 2000 resamples of the rounds (drawn with
   * replacement), 5th to 95th percentile. A target inside it is not yet judged: the run needs more rounds.
   */
  floorRatioInterval: Partial<Record<ServerName, [number, number]>>;
  rpsRatio: Partial<Record<ServerName, number>>;
  /** Lowest and highest per-round CPU ratio. */
  cpuRatioRange: Partial<Record<ServerName, [number, number]>>;
  breakdown: Partial<Record<ServerName, Breakdown>>;
  /** Every round's raw samples, by server. */
  rounds: Partial<Record<ServerName, Sample>>[];
}

export interface RouteOverhead {
  rounds: number;
  burstSeconds: number;
  /** Per server. */
  connections: number;
  /** 'together': every server's burst at the same time; 'in turn': one server after another. */
  schedule: Schedule;
  servers: ServerName[];
  hot: StreamResult;
  cold: StreamResult;
  /**
   * Set when the twin's CPU ratio strays more than 5% from 1 in either stream: identical servers measured
   * unequal, so the machine was too busy for the other ratios to be read closer than that.
   */
  noisy?: boolean;
}

/** How far the twin may stray from 1 before a run is called noisy. */
export const NOISE_TOLERANCE = 0.05;

interface Running {
  name: ServerName;
  child: ChildProcess;
  port: number;
  /** Next index into each stream: every server gets the same sequence, so cold is cold in each process. */
  cursor: Record<StreamName, number>;
}

async function start(name: ServerName): Promise<Running> {
  const child = forkTs('route-server.ts', [kindOf(name)]);
  const { port } = await nextMessage<Extract<FromServer, { type: 'ready' }>>(child, 'ready');
  return { name, child, port, cursor: { hot: 0, cold: 0 } };
}

function nextOf(server: Running, stream: StreamName, streams: Streams): () => Signup {
  if (stream === 'hot') return () => streams.hot[server.cursor.hot++ % streams.hot.length]!;
  return () => streams.cold(server.cursor.cold++ % streams.coldCapacity);
}

/** One burst, bracketed by the server's own CPU count. */
async function measure(
  server: Running,
  stream: StreamName,
  streams: Streams,
  seconds: number,
  connections?: number,
): Promise<Sample> {
  await ask(server.child, { type: 'start' }, 'started');
  const b = await burst(server.port, nextOf(server, stream, streams), seconds, connections);
  const s = await ask<Extract<FromServer, { type: 'stopped' }>>(server.child, { type: 'stop' }, 'stopped');
  if (b.errors > 0) throw new Error(`${server.name}: ${b.errors} connection errors in a ${stream} burst`);
  const n = Math.max(1, s.requests);
  return {
    ...b,
    cpuUsPerRequest: s.cpuUs / n,
    mainUsPerRequest: s.mainUs / n,
    gcPauseUsPerRequest: s.gcPauseUs / n,
    majorGcs: s.majorGcs,
    middlewareUs: s.middlewareUs,
    passed: s.passed,
    deferred: s.deferred,
  };
}

function summarise(servers: ServerName[], rounds: Partial<Record<ServerName, Sample>>[]): StreamResult {
  const twin = servers.includes('bare-twin');
  const base = (r: Partial<Record<ServerName, Sample>>, name: ServerName, pick: (s: Sample) => number) => {
    const bare = peer(name, 'bare', servers)!;
    return twin && bare === 'bare' && name !== 'bare-twin' && name !== 'bare'
      ? (pick(r.bare!) + pick(r['bare-twin']!)) / 2
      : pick(r[name === 'bare-twin' ? 'bare' : bare]!);
  };
  const ratios = (name: ServerName, pick: (s: Sample) => number) =>
    rounds.map((r) => pick(r[name]!) / base(r, name, pick));
  const out: StreamResult = {
    cpuRatio: {},
    floorRatio: {},
    floorRatioInterval: {},
    rpsRatio: {},
    cpuRatioRange: {},
    breakdown: {},
    rounds,
  };
  const range = (xs: number[]): [number, number] => [round(Math.min(...xs), 2), round(Math.max(...xs), 2)];
  for (const name of servers) {
    const cpu = ratios(name, (s) => s.cpuUsPerRequest);
    out.cpuRatio[name] = round(median(cpu));
    out.rpsRatio[name] = round(median(ratios(name, (s) => s.rps)));
    out.cpuRatioRange[name] = range(cpu);
    const floor = peer(name, 'floor', servers);
    if (name !== 'bare-twin' && SERVER_KINDS[name].role === 'ipmatch' && floor) {
      const pooled = (rs: readonly Partial<Record<ServerName, Sample>>[], n: ServerName) =>
        rs.reduce((sum, r) => sum + r[n]!.cpuUsPerRequest * r[n]!.requests, 0) /
        rs.reduce((sum, r) => sum + r[n]!.requests, 0);
      const { value, interval } = bootstrap(rounds, (rs) => pooled(rs, name) / pooled(rs, floor));
      out.floorRatio[name] = round(value);
      out.floorRatioInterval[name] = [round(interval[0]), round(interval[1])];
    }
    const med = (pick: (s: Sample) => number) => round(median(rounds.map((r) => pick(r[name]!))), 1);
    out.breakdown[name] = {
      cpuUs: med((s) => s.cpuUsPerRequest),
      mainUs: med((s) => s.mainUsPerRequest),
      otherThreadsUs: med((s) => s.cpuUsPerRequest - s.mainUsPerRequest),
      gcPauseUs: med((s) => s.gcPauseUsPerRequest),
      majorGcsPerRound: med((s) => s.majorGcs),
      rps: Math.round(median(rounds.map((r) => r[name]!.rps))),
    };
    const passed = rounds.reduce((sum, r) => sum + r[name]!.passed, 0);
    if (passed > 0) {
      const us = rounds.reduce((sum, r) => sum + r[name]!.middlewareUs, 0);
      out.breakdown[name]!.middlewareUs = round(us / passed, 2);
    } else if (rounds.some((r) => r[name]!.deferred > 0)) {
      out.breakdown[name]!.middlewareDeferred = true;
    }
  }
  return out;
}

export type Schedule = 'together' | 'in turn';
/** With every server loaded at once, each gets a share of the connections that one server gets alone. */
const TOGETHER_CONNECTIONS = 4;

/**
 * Keeps every server up, and each round sends each of them a burst of each stream; ratios are taken within a
 * round, then their median across rounds.
 * - 'together': every server's burst runs at the same time, so that whatever else the machine
 *   does in that second weighs on all of them alike. On a shared machine this is what keeps identical servers
 *   within a few percent of each other.
 * - 'in turn' (the default): one server after another, the servers' order rotated by one each round and the streams' order
 *   swapped, so that no server always runs first or after the same neighbour. Each server has the machine's
 *   spare cores to itself, but the load of the moment differs from one server to the next.
 */
export async function routeOverhead(
  streams: Streams,
  options: {
    servers: ServerName[];
    rounds: number;
    burstSeconds: number;
    schedule?: Schedule;
    log?: (line: string) => void;
  },
): Promise<RouteOverhead> {
  const { rounds, burstSeconds, schedule = 'in turn', log = () => {} } = options;
  const connections = schedule === 'together' ? TOGETHER_CONNECTIONS : CONNECTIONS;
  const names = options.servers;
  for (const name of names) {
    if (!peer(name, 'bare', names))
      throw new Error(`the route bench needs ${frameworkOf(name)}'s bare server as the baseline of ${name}`);
  }
  const servers = await Promise.all(names.map(start));
  try {
    // Warm-up, uncounted: JIT, the GeoIP data, connection pools.
    for (const stream of ['hot', 'cold'] as const) {
      for (const server of servers) await measure(server, stream, streams, 0.5);
    }
    const burstAll = async (order: Running[], stream: StreamName) => {
      const one: Partial<Record<ServerName, Sample>> = {};
      if (schedule === 'together') {
        const got = await Promise.all(
          order.map((server) => measure(server, stream, streams, burstSeconds, connections)),
        );
        order.forEach((server, i) => {
          one[server.name] = got[i]!;
        });
      } else {
        for (const server of order) one[server.name] = await measure(server, stream, streams, burstSeconds);
      }
      return one;
    };
    const samples: Record<StreamName, Partial<Record<ServerName, Sample>>[]> = { hot: [], cold: [] };
    for (let r = 0; r < rounds; r++) {
      const order = servers.map((_, i) => servers[(i + r) % servers.length]!);
      const streamOrder: StreamName[] = r % 2 ? ['cold', 'hot'] : ['hot', 'cold'];
      for (const stream of streamOrder) {
        const one = await burstAll(order, stream);
        samples[stream].push(one);
        const toFloor = names
          .filter((n) => n !== 'bare-twin' && SERVER_KINDS[n].role === 'ipmatch' && peer(n, 'floor', names))
          .map(
            (n) =>
              `${n} ${(one[n]!.cpuUsPerRequest / one[peer(n, 'floor', names)!]!.cpuUsPerRequest).toFixed(2)}`,
          );
        log(`  round ${r + 1}/${rounds} ${stream}: CPU to the floor: ${toFloor.join(', ') || '-'}`);
      }
    }
    const hot = summarise(names, samples.hot);
    const cold = summarise(names, samples.cold);
    const strays = (s: StreamResult) => Math.abs((s.cpuRatio['bare-twin'] ?? 1) - 1) > NOISE_TOLERANCE;
    const result: RouteOverhead = {
      rounds,
      burstSeconds,
      connections,
      schedule,
      servers: names,
      hot,
      cold,
    };
    if (names.includes('bare-twin')) result.noisy = strays(hot) || strays(cold);
    return result;
  } finally {
    for (const s of servers) s.child.send({ type: 'quit' });
    await Promise.all(
      servers.map((s) => (s.child.exitCode === null ? new Promise((r) => s.child.once('exit', r)) : null)),
    );
  }
}
