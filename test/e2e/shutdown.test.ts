import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Clean shutdown: a script that builds a core, checks, and closes must then exit by itself, with nothing
 * left to keep Node running: no socket in the undici pool, no timer (breaker, balance warning, budget
 * windows, retry back-off). Each script runs in its own process, as a user's would, and never calls
 * process.exit: it exits only if close() left nothing behind.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = (path: string) => JSON.stringify(fileURLToPath(new URL(`../../src/${path}`, import.meta.url)));
/** From close() resolving to the process having exited. */
const EXIT_WITHIN_MS = 2000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ms from the script's "closed" line to its exit. */
  afterClose: number;
  /** What the script printed: one JSON object per line. */
  out: Record<string, unknown>[];
  stderr: string;
}

/** Runs `body` (top-level await allowed) under node + tsx; kills it, and fails, after 15 s. */
function run(body: string): Promise<Run> {
  const script = `
const { createIpMatch, vonageProvider } = await import(${SRC('index.ts')});
const { startFakeVonage } = await import(${SRC('testing/fake-vonage.ts')});
const say = (o) => console.log(JSON.stringify(o));
// After core.close(), the fake sees every socket of the pool close (it hears of it a moment later).
const drained = async (fake) => {
  for (let i = 0; i < 50 && fake.openConnections > 0; i++) await new Promise((r) => setTimeout(r, 10));
  say({ socketsAfterClose: fake.openConnections });
};
const closed = async (extra = {}) => {
  say({ closed: Date.now(), ...extra });
  // What is left once close() has resolved: only the pipes to the parent may remain. Node lists a closed
  // server's handle until libuv has released it, a moment later, so look for up to 200 ms.
  const left = () => process.getActiveResourcesInfo().filter((r) => r !== 'PipeWrap' && r !== 'TTYWrap');
  for (let i = 0; i < 20 && left().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  say({ left: left() });
};
${body}
`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the script did not exit within 15 s; it printed:\n${stdout}\n${stderr}`));
    }, 15_000);
    child.on('exit', (code, signal) => {
      const exitedAt = Date.now();
      clearTimeout(guard);
      const out = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const closedAt = out.find((o) => typeof o.closed === 'number')?.closed as number | undefined;
      resolve({ code, signal, afterClose: closedAt ? exitedAt - closedAt : Number.NaN, out, stderr });
    });
  });
}

/** The bundled GeoIP data is older than maxAgeDays, so a default provider warns once: not an unclean exit. */
const STALE_WARNING =
  /^ipmatch: the GeoIP data .* was built \d+ days ago.*\(code=IPMATCH_DATA_STALE[^)\n]*\)\n/m;

function expectCleanExit(r: Run): void {
  expect(r.stderr.replace(STALE_WARNING, '')).toBe('');
  for (const o of r.out) if ('socketsAfterClose' in o) expect(o.socketsAfterClose).toBe(0);
  expect(r.code).toBe(0);
  expect(r.signal).toBeNull();
  expect(r.out.find((o) => 'left' in o)?.left).toEqual([]);
  expect(r.afterClose).toBeLessThan(EXIT_WITHIN_MS);
}

describe('a script that checks once and closes exits by itself', () => {
  it('with the offline default provider', async () => {
    const r = await run(`
const core = createIpMatch();
const d = await core.check({ phone: '+447400123456', ip: '81.2.69.160' });
say({ reason: d.reason, provider: d.provider });
await core.close();
await closed();
`);
    expect(r.out[0]).toEqual({ reason: 'country_match', provider: 'local' });
    expectCleanExit(r);
  });

  it('with the Vonage provider against a fake Vonage', async () => {
    const r = await run(`
const fake = await startFakeVonage();
const core = createIpMatch({
  provider: vonageProvider({ apiKey: 'test-key', apiSecret: 'test-secret', baseUrl: fake.url }),
  logger: { warn() {}, error() {} },
});
const d = await core.check({ phone: '+447400123456', ip: '211.234.0.1' });
say({ reason: d.reason, provider: d.provider, sockets: fake.openConnections });
await core.close();
await drained(fake);
await fake.close();
await closed();
`);
    // The lookup left a keep-alive socket open; close() drained it.
    expect(r.out[0]).toEqual({ reason: 'country_mismatch', provider: 'vonage', sockets: 1 });
    expectCleanExit(r);
  });

  it('with the Vonage provider’s state that lives on time: an open breaker, a low-balance warning, a spent budget', async () => {
    const r = await run(`
const fake = await startFakeVonage({ balance: 0.1 });
const core = createIpMatch({
  provider: vonageProvider({
    apiKey: 'test-key', apiSecret: 'test-secret', baseUrl: fake.url,
    breaker: { failures: 1, cooldownMs: 600_000 }, lowBalanceWarning: 5, maxLookupsPerMinutePerIp: 2,
  }),
  logger: { warn() {}, error() {} },
  timeoutMs: 10_000,
});
const reasons = [];
// A low balance warning, then a spent per-IP budget.
for (const n of ['+447400123401', '+447400123402', '+447400123403'])
  reasons.push((await core.check({ phone: n, ip: '81.2.69.160' })).provider);
// A failure opens the breaker for ten minutes.
fake.set({ httpStatus: 502 });
reasons.push((await core.check({ phone: '+447400123404', ip: '211.234.0.1' })).error?.code);
say({ reasons });
await core.close();
await drained(fake);
await fake.close();
await closed();
`);
    expect(r.out[0]).toEqual({ reasons: ['vonage', 'vonage', 'local', 'http_502'] });
    expectCleanExit(r);
  });

  it('when close() comes while a lookup hangs, and while another waits to retry after throttling', async () => {
    const r = await run(`
const fake = await startFakeVonage({
  fault: (req) => (req.query.number.endsWith('1') ? { hang: true } : { status: 1 }),
});
const core = createIpMatch({
  provider: vonageProvider({ apiKey: 'test-key', apiSecret: 'test-secret', baseUrl: fake.url }),
  logger: { warn() {}, error() {} },
  timeoutMs: 60_000,
});
const hung = core.check({ phone: '+447400123401', ip: '81.2.69.160' });
const throttled = core.check({ phone: '+447400123402', ip: '81.2.69.160' });
while (fake.inFlight < 1 || fake.calls < 2) await new Promise((r) => setTimeout(r, 5));
const started = Date.now();
await core.close();
const codes = [(await hung).error?.code, (await throttled).error?.code];
say({ codes, settledWithin: Date.now() - started });
await drained(fake);
await fake.close();
await closed();
`);
    const first = r.out[0] ?? {};
    // Both checks ended at close(), long before their 60 s budget, as errors that fail open.
    expect(first.codes).toEqual([
      expect.stringMatching(/^closed$/),
      expect.stringMatching(/^(closed|throttled)$/),
    ]);
    expect(first.settledWithin).toBeLessThan(1000);
    expectCleanExit(r);
  });
});
