import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createIpMatch } from 'ipmatch';
import request from 'supertest';
import { afterAll, describe, expect, test } from 'vitest';
import { createApp as expressSignup } from '../examples/express-signup.js';
import { createApp as koaCheckout } from '../examples/koa-checkout.js';
import { runObserve } from '../examples/observe.js';
import { runOtpDemo } from '../examples/otp-signup.js';
import { createApp as perRoute } from '../examples/per-route.js';
import { createApp as vonageExample } from '../examples/vonage.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const GB_PHONE = '+447400123456';
const GB_IP = '81.2.69.160';
const KR_IP = '211.234.0.1';
const quiet = { logger: { warn() {}, error() {} } };

describe('examples/express-signup.ts', () => {
  const app = expressSignup(quiet);
  const signup = (ip: string, phone: string) =>
    request(app).post('/signup').set('X-Forwarded-For', ip).send({ phone });

  test('a GB phone from a GB IP is created, from a KR IP refused, and a non-number is a 400', async () => {
    const ok = await signup(GB_IP, GB_PHONE);
    expect(ok.status).toBe(201);
    expect(ok.body.ipMatch).toMatchObject({ matchLevel: 'country', action: 'allow' });
    expect((await signup(KR_IP, GB_PHONE)).body.error).toBe('ip_phone_mismatch');
    expect((await signup(GB_IP, 'call me')).status).toBe(400);
  });
});

describe('examples/koa-checkout.ts', () => {
  const app = koaCheckout(quiet).callback();
  const order = (ip: string, phone: string) =>
    request(app)
      .post('/checkout')
      .set('X-Forwarded-For', ip)
      .send({ billing: { phone }, items: ['sku-1'] });

  test('an order from the billing phone country goes through with the decision on it', async () => {
    const res = await order(GB_IP, GB_PHONE);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ ordered: true, ipMatch: { matchLevel: 'country', action: 'allow' } });
  });

  test('an order from another country gets the 403, a non-number the 400', async () => {
    const res = await order(KR_IP, GB_PHONE);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'ip_phone_mismatch', matchLevel: 'mismatch' });
    expect((await order(GB_IP, 'call me')).body.error).toBe('invalid_phone');
  });

  test('other routes are left alone', async () => {
    expect((await request(app).get('/')).status).toBe(404);
  });

  test('ctx.ip is the address the proxy appended, not a left-most entry the client wrote', async () => {
    const res = await request(app)
      .post('/checkout')
      .set('X-Forwarded-For', `${GB_IP}, ${KR_IP}`)
      .send({ billing: { phone: GB_PHONE } });
    expect(res.status).toBe(403);
  });
});

describe('examples/per-route.ts', () => {
  const core = createIpMatch(quiet);
  afterAll(() => core.close());
  const app = perRoute({
    core,
    checkSmsCode: async (phone, code) => phone === GB_PHONE && code === '123456',
  });
  const post = (path: string, ip: string, body: object) =>
    request(app).post(path).set('X-Forwarded-For', ip).send(body);

  test('signup blocks a phone from another country', async () => {
    const res = await post('/signup', KR_IP, { phone: GB_PHONE });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('ip_phone_mismatch');
    expect((await post('/signup', GB_IP, { phone: GB_PHONE })).status).toBe(201);
  });

  test('checkout answers the same mismatch with an SMS challenge, and takes the order with the code', async () => {
    const challenged = await post('/checkout', KR_IP, { phone: GB_PHONE });
    expect(challenged.status).toBe(401);
    expect(challenged.body).toMatchObject({ challenge: 'sms', matchLevel: 'mismatch' });
    const wrong = await post('/checkout', KR_IP, { phone: GB_PHONE, smsCode: '000000' });
    expect(wrong.status).toBe(401);
    const stepped = await post('/checkout', KR_IP, { phone: GB_PHONE, smsCode: '123456' });
    expect(stepped.status).toBe(201);
    expect(stepped.body).toEqual({ ordered: true, steppedUp: true });
  });

  test('checkout from the phone country needs no code', async () => {
    const res = await post('/checkout', GB_IP, { phone: GB_PHONE });
    expect(res.body).toEqual({ ordered: true, steppedUp: false });
  });

  test('with no SMS check plugged in, a flagged checkout never completes', async () => {
    const closed = perRoute({ core });
    const res = await request(closed)
      .post('/checkout')
      .set('X-Forwarded-For', KR_IP)
      .send({ phone: GB_PHONE, smsCode: '123456' });
    expect(res.status).toBe(401);
  });
});

describe('examples/vonage.ts', () => {
  test('without credentials it runs on the fake Number Insight server, and says so', async () => {
    const lines: string[] = [];
    const example = await vonageExample({}, (line) => lines.push(line));
    try {
      expect(example.fake).toBeDefined();
      expect(lines.join('\n')).toContain(`fake Number Insight server at ${example.fake!.url}`);
      const signup = (ip: string) =>
        request(example.app).post('/signup').set('X-Forwarded-For', ip).send({ phone: GB_PHONE });
      const res = await signup(GB_IP);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        matchLevel: 'country',
        phone: { country: 'GB', carrier: expect.any(String) },
      });
      expect((await signup(KR_IP)).status).toBe(403);
      // Credentials went in a Basic header, never in the URL.
      expect(example.fake!.requests.map((r) => r.auth)).toEqual(['header']);
    } finally {
      await example.close();
    }
    expect(example.fake!.openConnections).toBe(0);
  });

  test('as a script, it serves until SIGTERM, then closes everything and exits 0', async () => {
    const env = { ...process.env, PORT: '0', VONAGE_API_KEY: '', VONAGE_API_SECRET: '' };
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/vonage.ts'], { cwd: root, env });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      for (let i = 0; i < 300 && !/example on http:\/\/127\.0\.0\.1:\d+\/signup/.test(out); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(out).toContain('using a fake Number Insight server');
      const url = /(http:\/\/127\.0\.0\.1:\d+\/signup)/.exec(out)![1]!;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': KR_IP },
        body: JSON.stringify({ phone: GB_PHONE }),
      });
      expect(res.status).toBe(403);
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    } finally {
      clearTimeout(kill);
    }
  });
});

describe('examples/otp-signup.ts', () => {
  test('a live server catches the burst: ip_velocity at the 4th number from one IP, prefix_burst at the 5th number of one block, a premium number at once', async () => {
    const lines: string[] = [];
    const firedAt = await runOtpDemo((line) => lines.push(line));
    expect(firedAt).toEqual({ ip_velocity: 4, prefix_burst: 5, premium_rate_number: 1 });
    expect(lines.join('\n')).toContain('request 4: 403 ip_velocity');
  });
});

describe('examples/observe.ts', () => {
  test('the report counts what the generator sent, and /metrics agrees', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipmatch-observe-test-'));
    try {
      const run = await runObserve({ count: 600, dir, html: join(dir, 'report.html') });
      const report = JSON.parse(run.json);
      const sent = (kind: string) => run.signups.filter((s) => s.kind === kind).length;
      expect(report.totals.decisions).toBe(600);
      expect(report.totals.byReason).toEqual({
        country_match: sent('home'),
        country_mismatch: sent('vpn') + sent('far'),
        ip_not_public: sent('private'),
        phone_invalid: sent('typo'),
      });
      // Observe mode: nothing blocked; /checkout's policy only flags, so only /signup's mismatches count as blocks.
      expect(report.totals.byAction.block).toBe(0);
      const signupMismatches = run.signups.filter(
        (s) => s.path === '/signup' && (s.kind === 'vpn' || s.kind === 'far'),
      ).length;
      expect(report.whatIf.rows[0].results[0].blocked).toBe(signupMismatches);
      const scraped = run.metrics
        .split('\n')
        .filter((l) => l.startsWith('ipmatch_decisions_total{'))
        .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
      expect(scraped).toBe(600);
      expect(run.summary).toContain('600 decisions');
      expect(existsSync(run.html)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the examples as scripts', () => {
  test.each([
    ['examples/express-signup.ts', 'npm start'],
    ['examples/koa-checkout.ts', 'npm run example:koa'],
    ['examples/per-route.ts', 'npm run example:per-route'],
    ['examples/vonage.ts', 'npm run example:vonage'],
  ])(
    '%s on a port that is taken exits 1, saying so, and prints no curl line',
    async (file, script) => {
      const taken = createServer().listen(0, '127.0.0.1');
      await once(taken, 'listening');
      const { port } = taken.address() as { port: number };
      try {
        const env = { ...process.env, PORT: String(port), VONAGE_API_KEY: '', VONAGE_API_SECRET: '' };
        const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, env });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
        const [code] = await once(child, 'exit');
        clearTimeout(kill);
        expect(code).toBe(1);
        expect(stderr).toContain(`port ${port} is in use: set PORT=${port + 1} ${script}`);
        expect(stdout).not.toContain('curl');
      } finally {
        taken.close();
      }
    },
    70_000,
  );

  test('example:observe leaves nothing in the temp dir, and writes report.html where it runs', () => {
    const work = mkdtempSync(join(tmpdir(), 'ipmatch-observe-script-'));
    const temp = join(work, 'tmp');
    try {
      mkdirSync(temp);
      const tsx = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
      const child = spawnSync(process.execPath, ['--import', tsx, join(root, 'examples', 'observe.ts')], {
        cwd: work,
        env: { ...process.env, TMPDIR: temp, TSX_TSCONFIG_PATH: join(root, 'tsconfig.json') },
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(child.status, child.stderr).toBe(0);
      expect(child.stdout).toContain('3000 requests');
      expect(existsSync(join(work, 'report.html'))).toBe(true);
      // tsx keeps its own cache there; the example's decision log must be gone.
      expect(readdirSync(temp).filter((f) => f.startsWith('ipmatch-'))).toEqual([]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 130_000);
});
