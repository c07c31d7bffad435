/**
 * One POST /signup server of the route-overhead bench, run as a child process. Per framework:
 *
 *   bare       the body parser and the handler
 *   floor      the same route with a no-op middleware that reads the client IP as ipMatch does (req.ip /
 *              ctx.ip) and keeps it on the request (as ipMatch keeps its decision): the floor any IP-based
 *              middleware pays
 *   ipmatch    the body parser, ipMatch() with every default (offline provider, bundled GeoIP data)
 *
 * and, on Express only, two anchors:
 *   rate-limit express-rate-limit with its defaults (a limit no stream reaches), then express.json()
 *   naive      express.json(), then per request a full libphonenumber-js parse and an mmdb-lib lookup, no cache
 *
 * and, on Express only and when asked for (--servers), what observing costs:
 *   ipmatch-listen  ipMatch({ onDecision }) with a no-op listener: the decision context and its clock
 *   ipmatch-log     ipMatch({ onDecision: decisionLog() }) writing to a file in the temp directory
 *
 * Every server trusts the loopback proxy, so that X-Forwarded-For from the load generator is the client: Express
 * 'trust proxy' 'loopback', Koa `proxy` with `maxIpsCount` 1, Fastify `trustProxy` '127.0.0.1'. Hono (on
 * @hono/node-server) reads no proxy header itself: its ipMatch takes `clientIp: 'request-ip'` behind
 * `trustedProxies: ['loopback']`, and its floor reads the IP the same way (request-ip, behind the same check).
 * The parent drives it over IPC: 'start' and 'stop' bracket a counted window, 'stop' answers with the CPU this
 * process used in it (process.cpuUsage) and the requests it received; nothing of that travels over HTTP.
 */
import './plain-stacks.js';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { bodyParser } from '@koa/bodyparser';
import express, { type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import Fastify, { type preHandlerHookHandler } from 'fastify';
import { Hono, type MiddlewareHandler } from 'hono';
import Koa, { type Middleware } from 'koa';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { Reader } from 'mmdb-lib';
import { ipMatch } from '../src/adapters/express.js';
import { ipMatch as fastifyIpMatch } from '../src/adapters/fastify.js';
import { ipMatch as honoIpMatch } from '../src/adapters/hono.js';
import { ipMatch as koaIpMatch } from '../src/adapters/koa.js';
import { compileTrustedProxies } from '../src/adapters/shared/client-ip.js';
import { walkForwardedFor } from '../src/adapters/shared/forwarded-for.js';
import { decisionLog } from '../src/observe/decision-log.js';
import { DEFAULT_MMDB } from './geo-networks.js';
import { SERVER_KINDS, type ServerKind } from './servers.js';

/** The ipmatch-log server's decision log, removed when it quits. */
const LOG = join(tmpdir(), `ipmatch-bench-decisions-${process.pid}.ndjson`);

export type ToServer = { type: 'start' } | { type: 'stop' } | { type: 'memory' } | { type: 'quit' };
export type FromServer =
  | { type: 'ready'; port: number }
  | { type: 'started' }
  | {
      type: 'stopped';
      /** CPU of the whole process (every thread: V8's GC helpers too), user + system, in µs. */
      cpuUs: number;
      /** CPU of the main thread alone, in µs (from /proc, 10 ms resolution). */
      mainUs: number;
      /** Main-thread GC pauses, in µs, and how many were major (mark-compact). */
      gcPauseUs: number;
      majorGcs: number;
      requests: number;
      /** The counted window, on the clock of process.hrtime (and of --cpu-prof), in µs. */
      windowUs: [number, number];
      /**
       * Floor and ipmatch servers: wall time inside the middleware, from its call to its call of next, summed
       * over the requests it passed on before returning (`passed`), in µs. Blocked requests, answered by the
       * middleware itself, are not in it: the floor has no such path to compare them with.
       */
      middlewareUs: number;
      passed: number;
      /**
       * The same calls' median, and their mean below the 90th percentile, in µs: a call the OS preempted (ms on a
       * busy machine) moves neither, where it moves the sum.
       */
      middlewareP50Us: number;
      middlewareP90MeanUs: number;
      /** Requests it passed on after returning (an await first): not timed. */
      deferred: number;
    }
  | { type: 'memory'; rss: number; heapUsed: number; arrayBuffers: number };

/** The anchor the issue names: what a middleware written without care costs. */
function naiveLookup(): RequestHandler {
  const reader = new Reader<never>(readFileSync(DEFAULT_MMDB));
  return (req, res, next) => {
    const phone = parsePhoneNumberFromString(String(req.body?.phone ?? ''));
    if (!phone?.isPossible()) {
      res.status(400).json({ error: 'invalid_phone' });
      return;
    }
    const record = req.ip ? (reader.get(req.ip) as { country_code?: string } | null) : null;
    const ipCountry = record?.country_code ?? null;
    if (phone.country && ipCountry && phone.country !== ipCountry) {
      res.status(403).json({ error: 'ip_phone_mismatch' });
      return;
    }
    next();
  };
}

/**
 * Time inside the measured middleware (floor or ipMatch) until it passes the request on, counted only when it
 * does so before returning: a pass after an await (Hono's ipMatch reads the body first) would time other
 * requests' work too.
 */
const inside = { us: 0, passed: 0, deferred: 0 };
/** Each timed call's µs in the window (the first 2²⁰), for its median and its mean below the 90th percentile. */
const calls = new Float64Array(1 << 20);
function robust(): { p50: number; p90Mean: number } {
  const n = Math.min(inside.passed, calls.length);
  if (n === 0) return { p50: 0, p90Mean: 0 };
  const sorted = calls.subarray(0, n).sort();
  const below = Math.max(1, Math.floor(n * 0.9));
  let sum = 0;
  for (let i = 0; i < below; i++) sum += sorted[i]!;
  return { p50: sorted[n >> 1]!, p90Mean: sum / below };
}
/** The call of the timed middleware now running, and when it started; 0 when none is. */
let timing = 0;
let call = 0;
/** Starts timing one call of the middleware, and returns the mark its pass is checked against. */
const enter = () => {
  timing = performance.now();
  return ++call;
};
const passedAfter = (mark: number) => {
  if (mark === call && timing !== 0) {
    const us = (performance.now() - timing) * 1000;
    inside.us += us;
    if (inside.passed < calls.length) calls[inside.passed] = us;
    inside.passed++;
  } else {
    inside.deferred++;
  }
  timing = 0;
};
/** Called when the middleware returns: a pass after this is deferred. */
const leave = (mark: number) => {
  if (mark === call) timing = 0;
};

/** A callback-style middleware (Express, a Fastify hook) timed from its call to its call of `next`. */
function timedCallback<A, B, Err>(
  mw: (this: unknown, a: A, b: B, next: (err?: Err) => void) => unknown,
): (this: unknown, a: A, b: B, next: (err?: Err) => void) => unknown {
  return function (this: unknown, a, b, next) {
    const mark = enter();
    try {
      return mw.call(this, a, b, (err?: Err) => {
        passedAfter(mark);
        next(err);
      });
    } finally {
      leave(mark);
    }
  };
}

/** A `(ctx, next)` middleware (Koa, Hono) timed from its call to its call of `next`. */
function timedWithNext<C, R>(mw: (ctx: C, next: () => R) => unknown): (ctx: C, next: () => R) => unknown {
  return (ctx, next) => {
    const mark = enter();
    try {
      return mw(ctx, () => {
        passedAfter(mark);
        return next();
      });
    } finally {
      leave(mark);
    }
  };
}

function expressApp(kind: ServerKind): express.Express {
  const a = express();
  a.set('trust proxy', 'loopback');
  const json = express.json();
  const done: RequestHandler = (_req, res) => {
    res.json({ ok: true });
  };
  const readsIp: RequestHandler = (req, res, next) => {
    res.locals.ip = req.ip;
    next();
  };
  if (kind === 'bare') a.post('/signup', json, done);
  else if (kind === 'floor') a.post('/signup', json, timedCallback(readsIp as never) as RequestHandler, done);
  else if (kind === 'ipmatch')
    a.post('/signup', json, timedCallback(ipMatch() as never) as RequestHandler, done);
  else if (kind === 'ipmatch-novelocity')
    a.post('/signup', json, timedCallback(ipMatch({ velocity: false }) as never) as RequestHandler, done);
  else if (kind === 'rate-limit') a.post('/signup', rateLimit({ limit: 1_000_000_000 }), json, done);
  else if (kind === 'naive') a.post('/signup', json, naiveLookup(), done);
  else if (kind === 'ipmatch-listen') a.post('/signup', json, ipMatch({ onDecision: () => {} }), done);
  else if (kind === 'ipmatch-log')
    a.post('/signup', json, ipMatch({ onDecision: decisionLog({ destination: LOG }) }), done);
  return a;
}

function koaApp(kind: ServerKind): Koa {
  const a = new Koa({ proxy: true, maxIpsCount: 1 });
  a.use(bodyParser());
  const readsIp: Middleware = (ctx, next) => {
    ctx.state.ip = ctx.ip;
    return next();
  };
  const timed = (mw: Middleware) => timedWithNext(mw) as Middleware;
  if (kind === 'koa-floor') a.use(timed(readsIp));
  else if (kind === 'koa-ipmatch') a.use(timed(koaIpMatch() as Middleware));
  else if (kind === 'koa-ipmatch-novelocity') a.use(timed(koaIpMatch({ velocity: false }) as Middleware));
  a.use((ctx) => {
    if (ctx.method === 'POST' && ctx.path === '/signup') ctx.body = { ok: true };
  });
  return a;
}

async function fastifyApp(kind: ServerKind): Promise<RequestListener> {
  let handler: RequestListener | undefined;
  const a = Fastify({
    trustProxy: '127.0.0.1',
    // The bench's own server counts requests and CPU; Fastify is handed its request listener only.
    serverFactory: (listener) => {
      handler = listener;
      return createServer();
    },
  });
  const readsIp: preHandlerHookHandler = (request, _reply, done) => {
    (request as { seenIp?: string }).seenIp = request.ip;
    done();
  };
  const timed = (hook: preHandlerHookHandler) => timedCallback(hook as never) as preHandlerHookHandler;
  const preHandler =
    kind === 'fastify-floor'
      ? timed(readsIp)
      : kind === 'fastify-ipmatch'
        ? timed(fastifyIpMatch() as preHandlerHookHandler)
        : undefined;
  a.post('/signup', preHandler ? { preHandler } : {}, async () => ({ ok: true }));
  await a.ready();
  return handler!;
}

function honoApp(kind: ServerKind): RequestListener {
  const a = new Hono<{ Bindings: HttpBindings; Variables: { ip: string | undefined } }>();
  // What ipMatch does for clientIp 'request-ip' behind loopback: the floor reads the IP as it does.
  const trusted = compileTrustedProxies(['loopback']);
  const clientIp = (incoming: HttpBindings['incoming']) =>
    walkForwardedFor(incoming.socket.remoteAddress, incoming.headers['x-forwarded-for'], trusted);
  const readsIp: MiddlewareHandler = async (c, next) => {
    c.set('ip', clientIp(c.env.incoming));
    await next();
  };
  const timed = (mw: MiddlewareHandler) => timedWithNext(mw as never) as MiddlewareHandler;
  if (kind === 'hono-floor') a.use('/signup', timed(readsIp));
  else if (kind === 'hono-ipmatch')
    a.use(
      '/signup',
      timed(honoIpMatch({ clientIp: 'request-ip', trustedProxies: ['loopback'] }) as MiddlewareHandler),
    );
  a.post('/signup', async (c) => {
    // What a handler does with a signup: it reads the body (ipMatch's server from Hono's cache).
    await c.req.json();
    return c.json({ ok: true });
  });
  return getRequestListener(a.fetch);
}

async function listener(kind: ServerKind): Promise<RequestListener> {
  const { framework } = SERVER_KINDS[kind];
  if (framework === 'koa') return koaApp(kind).callback();
  if (framework === 'fastify') return fastifyApp(kind);
  if (framework === 'hono') return honoApp(kind);
  return expressApp(kind);
}

const usNow = () => Number(process.hrtime.bigint() / 1000n);

/** CPU of the calling thread in µs, from /proc (Node 20 has no per-thread cpuUsage); 0 where /proc is missing. */
function mainThreadUs(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime + stime, in USER_HZ (100) ticks
  } catch {
    return 0;
  }
}

/** Main-thread GC pauses, summed as they happen. */
const gc = { pauseUs: 0, major: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.pauseUs += entry.duration * 1000;
    if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)
      gc.major++;
  }
}).observe({ entryTypes: ['gc'] });

async function serve(kind: ServerKind): Promise<void> {
  const send = (m: FromServer) => process.send!(m);
  let requests = 0;
  let cpu = process.cpuUsage();
  let startedUs = 0;
  let main = 0;
  let gcAtStart = { ...gc };
  const server = createServer(await listener(kind)).listen(0, '127.0.0.1', () => {
    send({ type: 'ready', port: (server.address() as AddressInfo).port });
  });
  server.keepAliveTimeout = 60_000;
  server.on('request', () => {
    requests++;
  });
  process.on('message', (m: ToServer) => {
    if (m.type === 'start') {
      requests = 0;
      startedUs = usNow();
      gcAtStart = { ...gc };
      inside.us = 0;
      inside.passed = 0;
      inside.deferred = 0;
      main = mainThreadUs();
      cpu = process.cpuUsage();
      send({ type: 'started' });
    } else if (m.type === 'stop') {
      const used = process.cpuUsage(cpu);
      const { p50, p90Mean } = robust();
      send({
        type: 'stopped',
        cpuUs: used.user + used.system,
        mainUs: mainThreadUs() - main,
        gcPauseUs: gc.pauseUs - gcAtStart.pauseUs,
        majorGcs: gc.major - gcAtStart.major,
        requests,
        windowUs: [startedUs, usNow()],
        middlewareUs: inside.us,
        passed: inside.passed,
        middlewareP50Us: p50,
        middlewareP90MeanUs: p90Mean,
        deferred: inside.deferred,
      });
    } else if (m.type === 'memory') {
      (globalThis as { gc?: () => void }).gc?.();
      const { rss, heapUsed, arrayBuffers } = process.memoryUsage();
      send({ type: 'memory', rss, heapUsed, arrayBuffers });
    } else if (m.type === 'quit') {
      server.closeAllConnections();
      server.close();
      rmSync(LOG, { force: true });
      // process.exit (not a signal) so that --cpu-prof writes its profile.
      process.exit(0);
    }
  });
}

const kind = process.argv[2] as ServerKind;
if (!Object.hasOwn(SERVER_KINDS, kind)) throw new Error(`route-server: unknown kind ${kind}`);
await serve(kind);
