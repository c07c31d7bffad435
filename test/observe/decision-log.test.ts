import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import express from 'express';
import fc from 'fast-check';
import {
  combineDecisionHandlers,
  createIpMatch,
  type DecisionContext,
  type DecisionLine,
  decisionLog,
  IpMatchConfigError,
  type IpMatchDecision,
  type IpMatchOptions,
  ProviderError,
} from 'ipmatch';
import { ipMatch } from 'ipmatch/express';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import request from 'supertest';
import { afterAll, describe, expect, test } from 'vitest';
import { parseLine } from '../../src/observe/report/parse-line.js';
import { GB_IP, GB_PHONE, KR_IP, recorder, US_IPV6, US_PHONE } from '../helpers/adapter-suite.js';
import { stubRemoteProvider } from '../helpers/stub-provider.js';

const dir = mkdtempSync(join(tmpdir(), 'ipmatch-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const tempFile = () => join(dir, `decisions-${++files}.ndjson`);
const readLines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as DecisionLine);
const SECRET = 'a-log-secret-0123456789';

/** An observe-mode signup app whose decisions go to `onDecision`, as a team starting a rollout writes it. */
function signupApp(options: IpMatchOptions) {
  const core = createIpMatch({ mode: 'observe', logger: recorder().logger, ...options });
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(express.json());
  app.post('/signup', ipMatch(core), (req, res) => void res.json({ action: req.ipMatch?.action }));
  return { app, core };
}

const signup = (app: express.Express, phone: string, ip: string) =>
  request(app).post('/signup').set('X-Forwarded-For', ip).send({ phone });

/** Every written form of a number a log must not hold: E.164, national, international, digits. */
function forms(e164: string): string[] {
  const parsed = parsePhoneNumberFromString(e164)!;
  const national = parsed.nationalNumber;
  return [
    e164,
    e164.slice(1),
    `00${e164.slice(1)}`,
    national,
    parsed.formatNational(),
    parsed.formatInternational(),
    parsed.formatNational().replace(/\D/g, ''),
  ];
}

describe('decisionLog()', () => {
  test('one line per decision, with the fields of the decision and its context', async () => {
    const file = tempFile();
    const seen: [IpMatchDecision, DecisionContext][] = [];
    const { app, core } = signupApp({
      onDecision: combineDecisionHandlers(decisionLog({ destination: file }), (d, c) => {
        seen.push([d, c]);
      }),
    });
    await signup(app, GB_PHONE, KR_IP).expect(200, { action: 'flag' });
    await signup(app, GB_PHONE, GB_IP).expect(200, { action: 'allow' });
    await signup(app, 'not a phone', GB_IP).expect(200);
    await core.close();
    const lines = readLines(file);
    expect(lines).toHaveLength(3);
    lines.forEach((line, i) => {
      const [d, c] = seen[i]!;
      expect(line).toEqual({
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        route: '/signup',
        method: 'POST',
        action: d.action,
        policyAction: d.policyAction,
        matchLevel: d.matchLevel,
        reason: d.reason,
        signals: d.signals,
        ipCountry: d.ip.country,
        ipNetwork: d.ip.network,
        phoneCountry: d.phone.country,
        phoneType: d.phone.type,
        roamingCountry: d.phone.roamingCountry,
        provider: 'local',
        cached: false,
        errorCode: null,
        durationMs: expect.closeTo(c.durationMs, 2),
        ...(d.velocity ? { velocity: d.velocity } : {}),
      });
    });
    // Velocity is on by default: the checked numbers carry their counts; the invalid phone none.
    expect(lines.map((l) => l.velocity)).toEqual([
      { ip: 1, subnet: 1, phoneCountries: 1, prefix: 1 },
      { ip: 1, subnet: 1, phoneCountries: 2, prefix: 1 },
      seen[2]![0].velocity,
    ]);
    expect(lines.map((l) => [l.policyAction, l.reason, l.ipCountry, l.phoneCountry])).toEqual([
      ['block', 'country_mismatch', 'KR', 'GB'],
      ['allow', 'country_match', 'GB', 'GB'],
      ['allow', 'phone_invalid', null, null],
    ]);
  });

  test('never holds the number or the address, in any written form; phoneKey and ipPrefix only when asked', async () => {
    const plain = tempFile();
    const keyed = tempFile();
    const { app, core } = signupApp({
      onDecision: [
        decisionLog({ destination: plain }),
        decisionLog({ destination: keyed, keySecret: SECRET, ipPrefix: true }),
      ],
    });
    await signup(app, GB_PHONE, KR_IP).expect(200);
    await signup(app, US_PHONE, US_IPV6).expect(200);
    await signup(app, GB_PHONE, GB_IP).expect(200);
    await core.close();
    for (const file of [plain, keyed]) {
      const text = readFileSync(file, 'utf8');
      for (const form of [...forms(GB_PHONE), ...forms(US_PHONE)]) expect(text).not.toContain(form);
      for (const ip of [KR_IP, GB_IP, US_IPV6, '2001:4860:4860:0:0:0:0:8888']) expect(text).not.toContain(ip);
    }
    expect(readLines(plain).every((l) => !('phoneKey' in l) && !('ipPrefix' in l))).toBe(true);
    const [kr, us, gb] = readLines(keyed);
    expect(kr!.ipPrefix).toBe('211.234.0.0/24');
    expect(us!.ipPrefix).toBe('2001:4860:4860::/48');
    expect(kr!.phoneKey).toMatch(/^[0-9a-f]{32}$/);
    expect(gb!.phoneKey).toBe(kr!.phoneKey); // the same number, counted as a repeat
    expect(us!.phoneKey).not.toBe(kr!.phoneKey);
  });

  test('holds no number or address for any phone and public IP (property)', async () => {
    const sink = new PassThrough();
    let text = '';
    sink.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const log = decisionLog({ destination: sink, keySecret: SECRET, ipPrefix: true });
    const core = createIpMatch({ onDecision: log, logger: recorder().logger });
    const digits = fc.stringMatching(/^[2-9]\d{8,9}$/);
    const code = fc.constantFrom('44', '1', '33', '49', '81', '61');
    const octet = fc.integer({ min: 1, max: 223 });
    await fc.assert(
      fc.asyncProperty(code, digits, octet, octet, async (cc, rest, a, b) => {
        const phone = `+${cc}${rest}`;
        const ip = `${a}.${b}.${(a * 7) % 256}.${(b * 13) % 256}`;
        text = '';
        const d = await core.check({ phone, ip });
        await log.flush();
        if (d.phone.number) {
          for (const form of forms(d.phone.number)) expect(text).not.toContain(form);
          // Nor the block prefixKey labels: the number without its last 3 digits, in any written form.
          for (const form of forms(d.phone.number)) expect(text).not.toContain(form.slice(0, -3));
          expect(text).toMatch(/"prefixKey":"[0-9a-f]{32}"/);
        }
        expect(text).not.toContain(phone);
        expect(text).not.toContain(`"${ip}"`);
        expect(text).not.toMatch(new RegExp(`\\b${ip.replace(/\./g, '\\.')}\\b(?!/)`));
      }),
      { numRuns: 150 },
    );
    await core.close();
  });

  test('a decision the offline data made for a provider that was down says degraded: true, and the report reads it', async () => {
    const file = tempFile();
    const down = stubRemoteProvider(() => new ProviderError('upstream_error', 'down for maintenance'));
    const { app, core } = signupApp({ provider: down, onDecision: decisionLog({ destination: file }) });
    await signup(app, GB_PHONE, KR_IP).expect(200, { action: 'flag' });
    await core.close();
    const healthy = createIpMatch({ onDecision: decisionLog({ destination: file }) });
    await healthy.check({ phone: GB_PHONE, ip: KR_IP });
    await healthy.close();
    const [degraded, plain] = readLines(file);
    expect(degraded).toMatchObject({
      reason: 'country_mismatch',
      provider: 'local',
      errorCode: 'upstream_error',
    });
    expect(degraded?.degraded).toBe(true);
    expect(plain).not.toHaveProperty('degraded');
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(parseLine(lines[0]!)).toMatchObject({ degraded: true, errorCode: 'upstream_error' });
    expect(parseLine(lines[1]!)).not.toHaveProperty('degraded');
  });

  test('a line keeps the IP-nature signals and the network (a provider), never the address', async () => {
    const file = tempFile();
    const { app, core } = signupApp({ onDecision: decisionLog({ destination: file }) });
    const tor = '204.8.96.141'; // a Tor exit of the bundled IP-nature data
    await signup(app, US_PHONE, tor).expect(200, { action: 'flag' });
    await core.close();
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(tor);
    expect(readLines(file)[0]).toMatchObject({ signals: ['tor_exit'], ipNetwork: 'tor', ipCountry: 'US' });
    expect(parseLine(text.split('\n')[0]!)).toMatchObject({ signals: ['tor_exit'], ipNetwork: 'tor' });
  });

  test('a line keeps the velocity counts (four numbers) and, keyed, a label of the block that phoneKey cannot join', async () => {
    const infos: DecisionLine[] = [];
    const seen: IpMatchDecision[] = [];
    const log = decisionLog({
      destination: { info: (o) => infos.push(o as DecisionLine) },
      keySecret: SECRET,
    });
    const record = (d: IpMatchDecision) => void seen.push(d);
    const core = createIpMatch({ logger: recorder().logger, onDecision: [log, record] });
    const sameBlock = ['+447400123456', '+447400123999', '+447400124000'];
    for (const phone of sameBlock) await core.check({ phone, ip: KR_IP });
    await core.close();
    // Velocity off: the decision has no counts, nor has its line.
    const off = createIpMatch({ logger: recorder().logger, velocity: false, onDecision: log });
    await off.check({ phone: GB_PHONE, ip: GB_IP });
    await off.close();
    const [a, b, c, plain] = infos;
    expect(infos.slice(0, 3).map((l) => l.velocity)).toEqual(seen.map((d) => d.velocity));
    expect([a, b, c].map((l) => l!.velocity)).toEqual([
      { ip: 1, subnet: 1, phoneCountries: 1, prefix: 1 },
      { ip: 2, subnet: 2, phoneCountries: 1, prefix: 2 },
      { ip: 3, subnet: 3, phoneCountries: 1, prefix: 1 },
    ]);
    expect(plain).not.toHaveProperty('velocity');
    expect(a!.prefixKey).toMatch(/^[0-9a-f]{32}$/);
    expect(b!.prefixKey).toBe(a!.prefixKey); // +447400123 456 and 999: one block of 1,000
    expect(c!.prefixKey).not.toBe(a!.prefixKey); // +447400124 000: the next block
    expect(plain!.prefixKey).toBe(a!.prefixKey);
    // Under its own key: the block's label is not the phoneKey of the block's digits, nor of any number here.
    const { createHmac } = await import('node:crypto');
    const hmac = (text: string) => createHmac('sha256', SECRET).update(text).digest('hex').slice(0, 32);
    expect(a!.phoneKey).toBe(hmac('+447400123456'));
    expect(a!.prefixKey).not.toBe(hmac('+447400123'));
    expect(infos.map((l) => l.phoneKey)).not.toContain(a!.prefixKey);
    const text = JSON.stringify(infos);
    for (const phone of sameBlock) expect(text).not.toContain(phone.slice(0, -3));
    // The report reads both back.
    expect(parseLine(JSON.stringify(b))).toMatchObject({ velocity: b!.velocity, prefixKey: a!.prefixKey });
  });

  test('prefixDigits names blocks as a changed velocity.prefix.digits counts them', async () => {
    const infos: DecisionLine[] = [];
    const destination = { info: (o: object) => infos.push(o as DecisionLine) };
    const log = decisionLog({ destination, keySecret: SECRET, prefixDigits: 4 });
    const core = createIpMatch({ logger: recorder().logger, onDecision: log });
    for (const phone of ['+447400120000', '+447400129999', '+447400130000'])
      await core.check({ phone, ip: GB_IP });
    await core.close();
    const [a, b, c] = infos.map((l) => l.prefixKey);
    expect([b === a, c === a]).toEqual([true, false]);
  });

  test('a pino-style logger gets one info(line) per decision', async () => {
    const infos: object[] = [];
    const core = createIpMatch({ onDecision: decisionLog({ destination: { info: (o) => infos.push(o) } }) });
    await core.check({ phone: GB_PHONE, ip: KR_IP });
    await core.close();
    expect(infos).toEqual([expect.objectContaining({ reason: 'country_mismatch', route: null })]);
  });

  test('close() flushes what is buffered, in order', async () => {
    const file = tempFile();
    const core = createIpMatch({ onDecision: decisionLog({ destination: file }) });
    for (let i = 0; i < 2500; i++) await core.check({ phone: GB_PHONE, ip: i % 2 ? KR_IP : GB_IP });
    await core.close();
    const lines = readLines(file);
    expect(lines).toHaveLength(2500);
    expect(lines.every((l, i) => l.ipCountry === (i % 2 ? 'KR' : 'GB'))).toBe(true);
  });

  test('a script awaiting check() in a loop, which never lets a timer run, loses no line of a file log', async () => {
    const file = tempFile();
    const { logger, codes } = recorder();
    const core = createIpMatch({ logger, onDecision: decisionLog({ destination: file, logger }) });
    // Past the 50,000 lines a log keeps waiting for its destination.
    for (let i = 0; i < 60_000; i++) await core.check({ phone: GB_PHONE, ip: KR_IP });
    await core.close();
    expect(readLines(file)).toHaveLength(60_000);
    expect(codes()).not.toContain('IPMATCH_DECISION_LOG_FAILED');
  });

  describe('a failing destination never fails a request', () => {
    const failing = {
      'a file in a missing directory': () => join(dir, 'missing', 'decisions.ndjson'),
      'a stream that errors': () =>
        new Writable({
          write: (_chunk, _enc, cb) => cb(new Error('disk full')),
        }),
      'a logger that throws': () => ({
        info() {
          throw new Error('logger down');
        },
      }),
    };
    test.each(Object.entries(failing))('%s: requests carry on, one warning', async (_name, destination) => {
      const { logger, codes } = recorder();
      const log = decisionLog({ destination: destination(), logger });
      const { app, core } = signupApp({ onDecision: log });
      for (let i = 0; i < 3; i++) {
        await signup(app, GB_PHONE, KR_IP).expect(200, { action: 'flag' });
        await log.flush(); // three failed writes, one warning
      }
      await core.close();
      expect(codes()).toEqual(['IPMATCH_DECISION_LOG_FAILED']);
    });

    test('a destination that recovers says how many lines were lost', async () => {
      const { logger, codes, warn } = recorder();
      let broken = true;
      const destination = {
        info() {
          if (broken) throw new Error('down');
        },
      };
      const log = decisionLog({ destination, logger });
      const core = createIpMatch({ onDecision: log });
      await core.check({ phone: GB_PHONE, ip: KR_IP });
      await core.check({ phone: GB_PHONE, ip: KR_IP });
      await log.flush();
      broken = false;
      await core.check({ phone: GB_PHONE, ip: KR_IP });
      await core.close();
      expect(codes()).toEqual(['IPMATCH_DECISION_LOG_FAILED', 'IPMATCH_DECISION_LOG_RECOVERED']);
      expect(warn.mock.calls[1]![1]).toMatchObject({ dropped: 2 });
    });
  });

  test('wrong options throw IpMatchConfigError, without echoing the secret', () => {
    expect(() => decisionLog({ destination: 42 as never })).toThrow(
      /destination: expected a file path, a writable stream, or a logger/,
    );
    expect(() => decisionLog({ ipPrefix: 'yes' as never })).toThrow(IpMatchConfigError);
    for (const prefixDigits of [0, 7, 2.5, '3'])
      expect(() => decisionLog({ prefixDigits } as never)).toThrow(
        /prefixDigits: expected 1 to 6 trailing digits, as velocity\.prefix\.digits/,
      );
    expect(() => decisionLog({ keySecret: 'short' })).toThrow(/keySecret: expected a secret of at least 16/);
    expect(() => decisionLog({ keySecret: 'short' })).not.toThrow(/short/);
    expect(() => decisionLog({ keysecret: SECRET } as never)).toThrow(/did you mean "keySecret"/);
  });
});
