/**
 * From observe to enforce, end to end: an Express shop in observe mode writes every decision to a log with
 * `decisionLog()` and keeps Prometheus metrics on /metrics. A seeded generator sends a few thousand signups and
 * checkouts from a mix of countries: customers at home, travellers on a VPN, fraud from far away, a few
 * private addresses and typos. Then the report says what each policy would have blocked.
 *
 * Run it with `npm run example:observe`: it prints the summary and writes report.html. On your own logs the
 * same report is `npx ipmatch report ipmatch-decisions.ndjson --html report.html`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import express from 'express';
import { createIpMatch, decisionLog, type IpMatch } from 'ipmatch';
import { ipMatch } from 'ipmatch/express';
import { prometheusMetrics } from 'ipmatch/metrics';
import { Registry } from 'prom-client';
import { main as ipmatchCli } from '../src/cli/main.js';
import { seeded } from '../src/testing/seeded.js';

/** The shop: /signup with the default policy, /checkout only flagging mismatches, and /metrics. */
export function createShop(core: IpMatch, registry: Registry) {
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(express.json());
  app.post(
    '/signup',
    ipMatch(core),
    (req, res) => void res.status(201).json({ action: req.ipMatch?.action }),
  );
  app.post('/checkout', ipMatch(core, { policy: { mismatch: 'flag' } }), (req, res) => {
    res.status(201).json({ action: req.ipMatch?.action });
  });
  app.get('/metrics', async (_req, res) => {
    res.type('text/plain').send(await registry.metrics());
  });
  return app;
}

// Addresses and numbering ranges checked against the bundled GeoIP data and libphonenumber-js.
const HOME: Record<string, { ips: string[]; phone: (digits: string) => string }> = {
  GB: { ips: ['81.2.69.160', '212.58.244.1'], phone: (d) => `+447400${d.slice(0, 6)}` },
  US: { ips: ['8.8.8.8', '151.101.1.1'], phone: (d) => `+1202555${d.slice(0, 4)}` },
  FR: { ips: ['80.67.169.12', '195.154.0.1'], phone: (d) => `+336${d.slice(0, 8)}` },
  DE: { ips: ['5.9.0.1', '88.198.0.1'], phone: (d) => `+49151${d.slice(0, 8)}` },
  IN: { ips: ['49.44.0.1', '117.192.0.1'], phone: (d) => `+9198${d.slice(0, 8)}` },
  BR: { ips: ['177.0.0.1', '200.147.0.1'], phone: (d) => `+55119${d.slice(0, 8)}` },
};
const VPN_IP = '91.198.174.192'; // NL
const FAR_IPS = ['211.234.0.1', '36.0.0.1']; // KR, CN

export interface Signup {
  path: '/signup' | '/checkout';
  phone: string;
  ip: string;
  /** What the traffic is, for the test to count against the report. */
  kind: 'home' | 'vpn' | 'far' | 'private' | 'typo';
}

/** The synthetic traffic: 80% at home, 8% on a VPN, 6% from far away, 3% private addresses, 3% typos. */
export function syntheticSignups(count: number, seed = 13): Signup[] {
  const next = seeded(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  const countries = Object.keys(HOME);
  return Array.from({ length: count }, (): Signup => {
    const path = next() < 0.7 ? '/signup' : '/checkout';
    const country = pick(countries);
    const phone = HOME[country]!.phone(String(Math.floor(next() * 1e8)).padStart(8, '0'));
    const r = next();
    if (r < 0.8) return { path, phone, ip: pick(HOME[country]!.ips), kind: 'home' };
    if (r < 0.88) return { path, phone, ip: VPN_IP, kind: 'vpn' };
    if (r < 0.94) return { path, phone, ip: pick(FAR_IPS), kind: 'far' };
    if (r < 0.97) return { path, phone, ip: `10.1.${Math.floor(next() * 255)}.7`, kind: 'private' };
    return { path, phone: pick(['12', 'call me', '+44']), ip: pick(HOME[country]!.ips), kind: 'typo' };
  });
}

export interface ObserveRun {
  /** The decision log; gone after the run unless `dir` was given. */
  log: string;
  html: string;
  signups: Signup[];
  /** What `ipmatch report` printed, and its figures (`--json`). */
  summary: string;
  json: string;
  metrics: string;
}

/**
 * Runs the shop, sends the traffic over HTTP (16 at a time), closes the core, then runs the report. The decision
 * log goes to `dir`; without one, to a temporary directory that is removed at the end, whatever happens.
 */
export async function runObserve({
  count = 3000,
  dir,
  html = resolve('report.html'),
}: {
  count?: number;
  dir?: string;
  html?: string;
} = {}): Promise<ObserveRun> {
  if (dir !== undefined) return observeInto(dir, count, html);
  const temporary = mkdtempSync(join(tmpdir(), 'ipmatch-observe-'));
  try {
    return await observeInto(temporary, count, html);
  } finally {
    rmSync(temporary, { recursive: true, force: true });
  }
}

async function observeInto(dir: string, count: number, html: string): Promise<ObserveRun> {
  const log = join(dir, 'ipmatch-decisions.ndjson');
  const registry = new Registry();
  const core = createIpMatch({
    mode: 'observe',
    onDecision: [decisionLog({ destination: log }), prometheusMetrics({ registry })],
  });
  const server = createShop(core, registry).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signups = syntheticSignups(count);
  let metrics: string;
  try {
    let sent = 0;
    const worker = async () => {
      while (sent < signups.length) {
        const s = signups[sent++]!;
        const res = await fetch(base + s.path, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': s.ip },
          body: JSON.stringify({ phone: s.phone }),
        });
        await res.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    metrics = await (await fetch(`${base}/metrics`)).text();
  } finally {
    server.close();
    server.closeAllConnections();
    // Flushes the decision log.
    await core.close();
  }
  const report = async (args: string[]) => {
    const out: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: () => {}, env: {} };
    const code = await ipmatchCli(['report', log, ...args], io);
    if (code !== 0) throw new Error(`ipmatch report exited ${code}`);
    return out.join('');
  };
  const summary = await report(['--html', html]);
  return { log, html, signups, summary, json: await report(['--json']), metrics };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const run = await runObserve();
  process.stdout.write(run.summary);
  const scraped = run.metrics.split('\n').filter((l) => l.startsWith('ipmatch_decisions_total{')).length;
  process.stdout.write(
    `\n${run.signups.length} requests; /metrics had ${scraped} decision series. ` +
      `Open ${run.html} in a browser for the charts.\n`,
  );
}
