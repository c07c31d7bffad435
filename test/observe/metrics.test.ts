import express from 'express';
import fc from 'fast-check';
import { createIpMatch, type IpMatch } from 'ipmatch';
import { ipMatch } from 'ipmatch/express';
import { openTelemetryMetrics, prometheusMetrics } from 'ipmatch/metrics';
import { Registry } from 'prom-client';
import request from 'supertest';
import { afterAll, describe, expect, test } from 'vitest';
import { SIGNAL_NAMES } from '../../src/core/signals.js';
import { signalLabel } from '../../src/observe/metrics/labels.js';
import { GB_IP, GB_PHONE, KR_IP, recorder, US_PHONE } from '../helpers/adapter-suite.js';

const cores: IpMatch[] = [];
afterAll(() => Promise.all(cores.map((c) => c.close())));

/** A shop as a team runs it: ipMatch on two routes, one with a parameter, and /metrics for the scraper. */
function shop(
  registry: Registry,
  options: { maxRoutes?: number; logger?: ReturnType<typeof recorder>['logger'] } = {},
) {
  const core = createIpMatch({
    logger: recorder().logger,
    onDecision: prometheusMetrics({ registry, ...options }),
  });
  cores.push(core);
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(express.json());
  const ok: express.RequestHandler = (_req, res) => void res.json({ ok: true });
  app.post('/signup', ipMatch(core), ok);
  app.post('/users/:id/checkout', ipMatch(core), ok);
  app.use('/tenant/:tenant', ipMatch(core), ok);
  app.get('/metrics', async (_req, res) => {
    res.type('text/plain').send(await registry.metrics());
  });
  return app;
}

const send = (app: express.Express, path: string, phone: unknown, ip: string) =>
  request(app).post(path).set('X-Forwarded-For', ip).send({ phone });

/** `name{labels} value` lines of a scrape, for one metric. */
function series(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`))
    .map((l) => {
      const [, body, value] = /^[^{]+\{(.*)\} (\S+)$/.exec(l)!;
      const labels = Object.fromEntries(
        [...body!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
      );
      return { labels: labels as Record<string, string>, value: Number(value) };
    });
}

describe('prometheusMetrics() through Express', () => {
  test('the scrape counts every decision, by route pattern and outcome, and times each', async () => {
    const registry = new Registry();
    const app = shop(registry);
    for (let i = 0; i < 5; i++) await send(app, '/signup', GB_PHONE, KR_IP).expect(403);
    for (let i = 0; i < 3; i++) await send(app, '/signup', GB_PHONE, GB_IP).expect(200);
    for (let i = 0; i < 4; i++) await send(app, `/users/${1000 + i}/checkout`, US_PHONE, KR_IP).expect(403);
    await send(app, '/users/7/checkout', 'not a phone', GB_IP).expect(400);
    const text = (await request(app).get('/metrics').expect(200)).text;
    const decisions = series(text, 'ipmatch_decisions_total');
    const by = (route: string, reason: string) =>
      decisions.find((s) => s.labels.route === route && s.labels.reason === reason);
    expect(by('/signup', 'country_mismatch')).toEqual({
      labels: {
        route: '/signup',
        action: 'block',
        policy_action: 'block',
        match_level: 'mismatch',
        reason: 'country_mismatch',
      },
      value: 5,
    });
    expect(by('/signup', 'country_match')?.value).toBe(3);
    expect(by('/users/:id/checkout', 'country_mismatch')?.value).toBe(4);
    expect(by('/users/:id/checkout', 'phone_invalid')?.value).toBe(1);
    expect(decisions.reduce((n, s) => n + s.value, 0)).toBe(13);
    expect(text).toContain('ipmatch_check_duration_seconds_count{provider="local",cached="false"} 13');
  });

  test('ipmatch_signals_total counts the signals decisions carried, by route, signal and action', async () => {
    const registry = new Registry();
    const app = shop(registry);
    const tor = '204.8.96.141'; // a Tor exit of the bundled IP-nature data
    const mullvad = '37.19.200.130'; // a Mullvad server in hosting space: vpn and hosting
    for (let i = 0; i < 2; i++) await send(app, '/signup', US_PHONE, tor).expect(200);
    await send(app, '/users/9/checkout', US_PHONE, mullvad).expect(200);
    await send(app, '/signup', GB_PHONE, GB_IP).expect(200);
    const text = (await request(app).get('/metrics').expect(200)).text;
    const counts = series(text, 'ipmatch_signals_total').map((s) => [s.labels, s.value]);
    expect(counts).toEqual(
      expect.arrayContaining([
        [{ route: '/signup', signal: 'tor_exit', action: 'flag' }, 2],
        [{ route: '/users/:id/checkout', signal: 'vpn', action: 'flag' }, 1],
        [{ route: '/users/:id/checkout', signal: 'hosting', action: 'flag' }, 1],
      ]),
    );
    expect(counts).toHaveLength(3);
  });

  test('the velocity signals count under labels of their own; the signal label set is SIGNALS and "other"', async () => {
    const registry = new Registry();
    const app = shop(registry);
    // One IP, five numbers of one block of 1,000: the 4th is ip_velocity (more than 3), the 5th prefix_burst too.
    for (let i = 0; i < 5; i++) await send(app, '/signup', `+44740012345${i}`, GB_IP).expect(200);
    const text = (await request(app).get('/metrics').expect(200)).text;
    const counts = series(text, 'ipmatch_signals_total').map((s) => [s.labels, s.value]);
    expect(counts).toEqual([
      [{ route: '/signup', signal: 'ip_velocity', action: 'flag' }, 2],
      [{ route: '/signup', signal: 'prefix_burst', action: 'flag' }, 1],
    ]);
    for (const name of SIGNAL_NAMES) expect(signalLabel(name)).toBe(name);
    expect(SIGNAL_NAMES).toEqual(
      expect.arrayContaining(['ip_velocity', 'prefix_burst', 'velocity_unavailable']),
    );
    for (const name of ['ip_velocity ', 'IP_VELOCITY', '__proto__', 'constructor', '+447400123'])
      expect(signalLabel(name)).toBe('other');
  });

  test('label values stay in closed vocabularies whatever the requests hold', async () => {
    const registry = new Registry();
    const app = shop(registry);
    const sent: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 30 }),
          fc.stringMatching(/^\+[1-9]\d{6,13}$/),
          fc.integer(),
          fc.constant(null),
        ),
        fc.ipV4(),
        fc.constantFrom('/signup', '/users/x1/checkout', '/users/%3Cb%3E/checkout'),
        async (phone, ip, path) => {
          if (typeof phone === 'string' && phone.length > 3) sent.push(phone);
          sent.push(ip);
          const res = await send(app, path, phone, ip);
          expect([200, 400, 403]).toContain(res.status);
        },
      ),
      { numRuns: 60 },
    );
    const text = (await request(app).get('/metrics')).text;
    const decisions = series(text, 'ipmatch_decisions_total');
    expect(decisions.reduce((n, s) => n + s.value, 0)).toBe(60);
    for (const { labels } of decisions) {
      expect(Object.keys(labels).sort()).toEqual([
        'action',
        'match_level',
        'policy_action',
        'reason',
        'route',
      ]);
      expect(['/signup', '/users/:id/checkout']).toContain(labels.route);
      expect(['allow', 'flag', 'block']).toContain(labels.action);
      expect(['allow', 'flag', 'block']).toContain(labels.policy_action);
      expect(['country', 'mismatch', 'unknown']).toContain(labels.match_level);
      expect(labels.reason).toMatch(/^[a-z_]+$/);
    }
    for (const value of sent) expect(text).not.toContain(`"${value}"`);
    expect(text).not.toContain('x1');
  });

  test('past maxRoutes distinct routes, new ones count as "other", with one warning', async () => {
    const registry = new Registry();
    const { logger, codes } = recorder();
    const app = shop(registry, { maxRoutes: 2, logger });
    await send(app, '/signup', GB_PHONE, GB_IP);
    // Mounted with app.use() on a parameterised path, Express reports the path as requested.
    for (const tenant of ['acme', 'globex', 'initech']) await send(app, `/tenant/${tenant}`, GB_PHONE, GB_IP);
    const routes = series((await request(app).get('/metrics')).text, 'ipmatch_decisions_total').map((s) => [
      s.labels.route,
      s.value,
    ]);
    expect(routes).toEqual([
      ['/signup', 1],
      ['/tenant/acme', 1],
      ['other', 2],
    ]);
    expect(codes()).toEqual(['IPMATCH_METRICS_ROUTES_CAPPED']);
  });

  test('two cores on one registry share the metrics instead of failing to register', async () => {
    const registry = new Registry();
    const a = createIpMatch({ onDecision: prometheusMetrics({ registry }) });
    const b = createIpMatch({ onDecision: prometheusMetrics({ registry }) });
    cores.push(a, b);
    await a.check({ phone: GB_PHONE, ip: KR_IP });
    await b.check({ phone: GB_PHONE, ip: KR_IP });
    const [s] = series(await registry.metrics(), 'ipmatch_decisions_total');
    expect(s).toMatchObject({ labels: { route: '', reason: 'country_mismatch' }, value: 2 });
  });

  test('wrong options throw at construction', () => {
    expect(() => prometheusMetrics({ registry: {} as never })).toThrow(
      /registry: expected a prom-client Registry/,
    );
    expect(() => prometheusMetrics({ maxroutes: 5 } as never)).toThrow(/did you mean "maxRoutes"/);
  });
});

describe('openTelemetryMetrics()', () => {
  /** A meter that records what instruments receive, as an OpenTelemetry SDK's exporter would see it. */
  function recordingMeter() {
    const added: [number, Record<string, unknown>][] = [];
    const recorded: [number, Record<string, unknown>][] = [];
    const instruments: { name: string; kind: string; unit?: string }[] = [];
    const meter = {
      createCounter: (name: string) => {
        instruments.push({ name, kind: 'counter' });
        return { add: (v: number, a: Record<string, unknown>) => added.push([v, a]) };
      },
      createHistogram: (name: string, o: { unit?: string }) => {
        instruments.push({ name, kind: 'histogram', unit: o.unit });
        return { record: (v: number, a: Record<string, unknown>) => recorded.push([v, a]) };
      },
    };
    return { meter: meter as never, added, recorded, instruments };
  }

  test('counts decisions and records durations with closed attributes', async () => {
    const m = recordingMeter();
    const core = createIpMatch({ onDecision: openTelemetryMetrics({ meter: m.meter }) });
    cores.push(core);
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(express.json());
    app.post('/users/:id/checkout', ipMatch(core), (_req, res) => void res.json({ ok: true }));
    await send(app, '/users/42/checkout', GB_PHONE, KR_IP).expect(403);
    expect(m.instruments).toEqual([
      { name: 'ipmatch.decisions', kind: 'counter' },
      { name: 'ipmatch.check.duration', kind: 'histogram', unit: 's' },
      { name: 'ipmatch.signals', kind: 'counter' },
    ]);
    expect(m.added).toEqual([
      [
        1,
        {
          'http.route': '/users/:id/checkout',
          'ipmatch.action': 'block',
          'ipmatch.policy_action': 'block',
          'ipmatch.match_level': 'mismatch',
          'ipmatch.reason': 'country_mismatch',
        },
      ],
    ]);
    expect(m.recorded).toEqual([
      [expect.any(Number), { 'ipmatch.provider': 'local', 'ipmatch.cached': false }],
    ]);
    expect(m.recorded[0]![0]).toBeLessThan(1);
  });

  test('counts each signal a decision carried as ipmatch.signals', async () => {
    const m = recordingMeter();
    const core = createIpMatch({ onDecision: openTelemetryMetrics({ meter: m.meter }) });
    cores.push(core);
    await core.check({ phone: US_PHONE, ip: '37.19.200.130' }); // Mullvad in hosting space
    expect(m.added.slice(1)).toEqual([
      [1, { 'http.route': '', 'ipmatch.signal': 'vpn', 'ipmatch.action': 'flag' }],
      [1, { 'http.route': '', 'ipmatch.signal': 'hosting', 'ipmatch.action': 'flag' }],
    ]);
  });

  test('a meter is required', () => {
    expect(() => openTelemetryMetrics({} as never)).toThrow(/meter: expected an OpenTelemetry Meter/);
  });
});
