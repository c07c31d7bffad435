/**
 * One Express POST /signup server of the route-overhead bench, run as a child process:
 *
 *   bare       express.json() and the handler
 *   bare-ip    the same, and the handler reads req.ip (what any IP-based middleware pays first)
 *   ipmatch    express.json(), ipMatch() with every default (offline provider, bundled GeoIP data)
 *   rate-limit express-rate-limit with its defaults (a limit no stream reaches), then express.json()
 *   naive      express.json(), then per request a full libphonenumber-js parse and an mmdb-lib lookup, no cache
 *
 * Every server sets 'trust proxy' to 'loopback', so that X-Forwarded-For from the load generator is the client.
 * The parent drives it over IPC: 'start' and 'stop' bracket a counted window, 'stop' answers with the CPU this
 * process used in it (process.cpuUsage) and the requests it received; nothing of that travels over HTTP.
 */
import './plain-stacks.js';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import express, { type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { Reader } from 'mmdb-lib';
import { ipMatch } from '../src/adapters/express.js';
import { DEFAULT_MMDB } from './geo-networks.js';

const SERVER_KINDS = ['bare', 'bare-ip', 'ipmatch', 'rate-limit', 'naive'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

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

function app(kind: ServerKind): express.Express {
  const a = express();
  a.set('trust proxy', 'loopback');
  const json = express.json();
  const done: RequestHandler = (_req, res) => {
    res.json({ ok: true });
  };
  switch (kind) {
    case 'bare':
      a.post('/signup', json, done);
      break;
    case 'bare-ip':
      a.post('/signup', json, (req, res) => {
        res.json({ ok: req.ip !== undefined });
      });
      break;
    case 'ipmatch':
      a.post('/signup', json, ipMatch(), done);
      break;
    case 'rate-limit':
      a.post('/signup', rateLimit({ limit: 1_000_000_000 }), json, done);
      break;
    case 'naive':
      a.post('/signup', json, naiveLookup(), done);
      break;
  }
  return a;
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

function serve(kind: ServerKind): void {
  const send = (m: FromServer) => process.send!(m);
  let requests = 0;
  let cpu = process.cpuUsage();
  let startedUs = 0;
  let main = 0;
  let gcAtStart = { ...gc };
  const server = app(kind).listen(0, '127.0.0.1', () => {
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
      main = mainThreadUs();
      cpu = process.cpuUsage();
      send({ type: 'started' });
    } else if (m.type === 'stop') {
      const used = process.cpuUsage(cpu);
      send({
        type: 'stopped',
        cpuUs: used.user + used.system,
        mainUs: mainThreadUs() - main,
        gcPauseUs: gc.pauseUs - gcAtStart.pauseUs,
        majorGcs: gc.major - gcAtStart.major,
        requests,
        windowUs: [startedUs, usNow()],
      });
    } else if (m.type === 'memory') {
      (globalThis as { gc?: () => void }).gc?.();
      const { rss, heapUsed, arrayBuffers } = process.memoryUsage();
      send({ type: 'memory', rss, heapUsed, arrayBuffers });
    } else if (m.type === 'quit') {
      server.closeAllConnections();
      server.close();
      // process.exit (not a signal) so that --cpu-prof writes its profile.
      process.exit(0);
    }
  });
}

const kind = process.argv[2] as ServerKind;
if (!SERVER_KINDS.includes(kind)) throw new Error(`route-server: unknown kind ${kind}`);
serve(kind);
