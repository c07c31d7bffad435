import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { OTHER_ROUTES, ReportBuilder } from '../../src/observe/report/aggregate.js';
import type { Report } from '../../src/observe/report/figures.js';
import { LIMITS, MAX_LINE, type ReportLimits } from '../../src/observe/report/limits.js';
import { type LoggedDecision, parseLine } from '../../src/observe/report/parse-line.js';
import { readSource } from '../../src/observe/report/read.js';
import { routeMatcher } from '../../src/observe/report/route-pattern.js';
import { formatReport } from '../../src/observe/report/terminal.js';
import { Timeline } from '../../src/observe/report/timeline.js';
import { TopKeys } from '../../src/observe/report/top-keys.js';

/** The report's memory bounds, read from what it holds: keys and buckets counted, never wall time. */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 2, 9); // a Monday

const decision = (over: Partial<LoggedDecision> = {}): LoggedDecision => ({
  time: T0,
  route: '/signup',
  action: 'allow',
  policyAction: 'allow',
  matchLevel: 'country',
  reason: 'country_match',
  signals: [],
  ipCountry: 'GB',
  ipNetwork: null,
  phoneCountry: 'GB',
  phoneType: null,
  errorCode: null,
  phoneKey: null,
  velocity: null,
  prefixKey: null,
  ...over,
});

function report(decisions: LoggedDecision[], limits: ReportLimits = LIMITS): Report {
  const builder = new ReportBuilder({}, limits);
  for (const d of decisions) builder.add(d);
  return builder.result();
}

/** The bucket each time belongs in, worked out from the calendar rather than from timeline.ts. */
function oracle(times: number[]) {
  const span = Math.max(...times) - Math.min(...times);
  const unit = span <= 3 * DAY ? 'hour' : span <= 366 * DAY ? 'day' : span <= 1830 * DAY ? 'week' : 'month';
  const start = (t: number) => {
    const d = new Date(t);
    if (unit === 'hour')
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours());
    if (unit === 'month') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    return unit === 'day' ? day : day - ((d.getUTCDay() + 6) % 7) * DAY;
  };
  const counts = new Map<string, number>();
  for (const t of times) {
    const key = new Date(start(t)).toISOString();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { unit, counts };
}

describe('the timeline', () => {
  test.each([
    ['hour', 3 * DAY, 73],
    ['day', 3 * DAY + 1, 4],
    ['day', 366 * DAY, 367],
    ['week', 366 * DAY + 1, 53],
    ['week', 1830 * DAY, 262],
    ['month', 1830 * DAY + 1, 61],
  ] as const)('is per %s for a span of %d ms (%d buckets)', (unit, span, n) => {
    const r = report([decision(), decision({ time: T0 + span })]);
    expect(r.timeline.unit).toBe(unit);
    expect(r.timeline.buckets).toHaveLength(n);
  });

  test('weeks start on Monday, UTC, and a week that straddles two months is folded into neither', () => {
    const sunday = Date.UTC(2026, 10, 1, 23); // 2026-11-01 is a Sunday
    const r = report([decision({ time: sunday }), decision({ time: sunday + 400 * DAY })]);
    expect(r.timeline.unit).toBe('week');
    expect(r.timeline.buckets[0]!.start).toBe('2026-10-26T00:00:00.000Z');
    expect(r.timeline.buckets.every((b) => new Date(b.start).getUTCDay() === 1)).toBe(true);
  });

  test('whatever the order of the lines, every time lands in the bucket the calendar gives', () => {
    const scale = fc.constantFrom(2 * DAY, 300 * DAY, 4 * 365 * DAY, 100 * 365 * DAY);
    const times = scale.chain((s) =>
      fc
        .array(fc.integer({ min: 0, max: s }), { minLength: 1, maxLength: 40 })
        .map((xs) => xs.map((x) => Date.UTC(2000, 0, 1) + x)),
    );
    fc.assert(
      fc.property(times, (ts) => {
        const timeline = new Timeline();
        for (const t of ts) timeline.add(t, 'allow');
        const { unit, buckets } = timeline.result();
        const expected = oracle(ts);
        expect(unit).toBe(expected.unit);
        const seen = buckets.filter((b) => b.allow > 0).map((b) => [b.start, b.allow]);
        expect(Object.fromEntries(seen)).toEqual(Object.fromEntries(expected.counts));
        expect(buckets.length).toBeLessThanOrEqual(1212);
      }),
      { numRuns: 300 },
    );
  });
});

describe('names past the caps are counted together', () => {
  test('2,000 distinct routes, reasons, codes and signals: 500 routes and an (other routes) row', () => {
    const decisions = Array.from({ length: 2000 }, (_, i) =>
      decision({
        route: `/r${i}`,
        reason: `reason${i}`,
        errorCode: `code${i}`,
        signals: [`s${i}`],
        ipNetwork: `net${i}`,
        phoneType: `type${i}`,
      }),
    );
    const r = report(decisions);
    expect(r.totals.decisions).toBe(2000);
    expect(r.routes).toHaveLength(501);
    expect(r.routes.at(-1)).toMatchObject({ route: OTHER_ROUTES, other: true, decisions: 1500 });
    expect(r.routes.reduce((n, x) => n + x.decisions, 0)).toBe(2000);
    expect(r.whatIf.rows).toHaveLength(502);
    expect(Object.keys(r.totals.byReason)).toHaveLength(51);
    expect(r.totals.byReason['(other)']).toBe(1950);
    expect(r.errors).toHaveLength(101);
    expect(r.errors.at(-1)).toEqual({ code: '(other)', count: 1900 });
    expect(r.signals).toHaveLength(101);
    expect(r.signals.at(-1)).toMatchObject({ signal: '(other)', family: 'other', count: 1900 });
    expect(r.networks).toHaveLength(101);
    expect(r.networks.at(-1)).toEqual({ network: '(other)', count: 1900 });
    expect(r.phoneTypes).toHaveLength(101);
    expect(r.phoneTypes.at(-1)).toEqual({ type: '(other)', count: 1900 });
    expect(r.whatIf.rows[0]!.signals.at(-1)).toEqual({ signal: '(other)', blocked: 1900, share: 0.95 });
    expect(formatReport(r)).toContain(
      '  1,500 decisions on routes past the first 500 are counted together as (other routes)\n',
    );
  });

  test('pairs, per route and over all, and keyed numbers stop at their caps; the totals stay exact', () => {
    const limits = { routes: 2, reasons: 2, names: 2, pairs: 3, routePairs: 2, phones: 4, prefixes: 2 };
    const letters = 'ABCDEFGHIJ';
    const decisions = [...letters].map((c, i) =>
      decision({
        route: `/r${i % 3}`,
        matchLevel: 'mismatch',
        policyAction: 'block',
        phoneCountry: `${c}A`,
        ipCountry: 'KR',
        phoneKey: `${i}`.repeat(32),
      }),
    );
    const r = report(decisions, limits);
    expect(r.pairs.mismatches).toBe(10);
    expect(r.pairs.top.map((p) => p.phoneCountry)).toEqual(['AA', 'BA', 'CA']);
    expect(r.whatIf.rows[1]!.results[0]!.top).toHaveLength(2);
    expect(r.whatIf.rows[0]!.results[0]!.blocked).toBe(10);
    expect(r.phones).toEqual({ keyedLines: 10, distinct: 4, repeated: 0, capped: true });
  });

  test('a name is cut to 200 characters and a country that is not two letters is not known', () => {
    const parsed = parseLine(
      JSON.stringify({
        time: '2026-11-02T09:00:00Z',
        route: `/${'x'.repeat(10_000)}`,
        action: 'allow',
        policyAction: 'allow',
        matchLevel: 'mismatch',
        reason: 'country_mismatch',
        phoneCountry: 'gb',
        ipCountry: 'KR<script>',
      }),
    ) as LoggedDecision;
    expect(parsed.route).toHaveLength(200);
    expect(parsed.route!.endsWith('…')).toBe(true);
    expect([parsed.phoneCountry, parsed.ipCountry]).toEqual(['GB', null]);
  });

  test('a line over 64 KiB is a bad line even when it arrives whole in one chunk', async () => {
    const long = JSON.stringify({ ...decision(), time: '2026-11-02T09:00:00Z', route: 'x'.repeat(MAX_LINE) });
    const builder = new ReportBuilder();
    await readSource('big', Readable.from([`${long}\n`]), builder);
    const r = builder.result();
    expect([r.totals.decisions, r.input.bad.count]).toEqual([0, 1]);
    expect(r.input.bad.first[0]!.problem).toBe(`longer than ${MAX_LINE} characters`);
  });
});

describe('--route patterns', () => {
  test('match as the same pattern would as a regular expression', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '/'), maxLength: 12 });
    const pattern = fc.string({ unit: fc.constantFrom('a', 'b', '/', '*'), maxLength: 8 });
    fc.assert(
      fc.property(pattern, text, (p, t) => {
        const re = new RegExp(`^${p.split('*').join('.*')}$`);
        expect(routeMatcher(p)!(t)).toBe(re.test(t));
      }),
      { numRuns: 500 },
    );
  });

  test('many stars against a 200-character route return at once (a regular expression never did)', () => {
    const match = routeMatcher(`${'*a'.repeat(40)}*b`)!;
    expect(match('a'.repeat(200))).toBe(false);
    expect(match(`${'a'.repeat(199)}b`)).toBe(true);
  });
});

describe('blocks of numbers (prefixKey) are ranked in bounded memory', () => {
  const key = (i: number) => i.toString(16).padStart(32, '0');

  test('Space-Saving: every count brackets the true one, and a key above 1/capacity of the stream is held', () => {
    const stream = fc.array(fc.nat(30), { minLength: 1, maxLength: 400 });
    fc.assert(
      fc.property(stream, fc.integer({ min: 1, max: 12 }), (keys, capacity) => {
        const top = new TopKeys(capacity);
        const truth = new Map<number, number>();
        for (const k of keys) {
          top.add(key(k));
          truth.set(k, (truth.get(k) ?? 0) + 1);
        }
        const held = top.top(capacity);
        expect(held.length).toBe(Math.min(capacity, truth.size));
        expect(top.approximate).toBe(truth.size > capacity);
        for (const h of held) {
          const n = truth.get(Number.parseInt(h.key, 16))!;
          expect(h.count - h.overcount).toBeLessThanOrEqual(n);
          expect(h.count).toBeGreaterThanOrEqual(n);
          if (!top.approximate) expect(h.overcount).toBe(0);
        }
        for (const [k, n] of truth) {
          if (n > keys.length / capacity) expect(held.map((h) => h.key)).toContain(key(k));
        }
      }),
      { numRuns: 500 },
    );
  });

  test('100,000 distinct blocks hold 10,000 counters; the block behind 5% of the lines comes first', () => {
    const heavy = 'f'.repeat(32);
    const decisions = Array.from({ length: 105_000 }, (_, i) =>
      decision({ prefixKey: i % 21 === 0 ? heavy : key(i) }),
    );
    const r = report(decisions);
    expect(r.prefixes).toMatchObject({ keyedLines: 105_000, held: 10_000, approximate: true });
    const first = r.prefixes!.top[0]!;
    expect(first.prefixKey).toBe(heavy);
    expect(first.count - first.overcount).toBeLessThanOrEqual(5000);
    expect(first.count).toBeGreaterThanOrEqual(5000);
    expect(r.prefixes!.top).toHaveLength(20);
  });

  test('a log of few blocks gives exact counts, most first', () => {
    const r = report([
      decision({ prefixKey: key(1) }),
      decision({ prefixKey: key(2) }),
      decision({ prefixKey: key(2) }),
      decision(),
    ]);
    expect(r.prefixes).toEqual({
      keyedLines: 3,
      held: 2,
      approximate: false,
      top: [
        { prefixKey: key(2), count: 2, overcount: 0 },
        { prefixKey: key(1), count: 1, overcount: 0 },
      ],
    });
  });
});

describe('the velocity counts spread into buckets', () => {
  test('0, 1, 2, 3, 4–5, 6–10 and >10, with the largest count seen', () => {
    const counts = [0, 1, 2, 3, 4, 5, 6, 10, 11, 1_000_000_000];
    const r = report([
      ...counts.map((n) => decision({ velocity: { ip: n, subnet: n, phoneCountries: 1, prefix: 2 } })),
      decision(),
    ]);
    expect(r.velocity).toEqual({
      counted: 10,
      buckets: ['0', '1', '2', '3', '4–5', '6–10', '>10'],
      ip: { buckets: [1, 1, 1, 1, 2, 2, 2], max: 1_000_000_000 },
      subnet: { buckets: [1, 1, 1, 1, 2, 2, 2], max: 1_000_000_000 },
      phoneCountries: { buckets: [0, 10, 0, 0, 0, 0, 0], max: 1 },
      prefix: { buckets: [0, 0, 10, 0, 0, 0, 0], max: 2 },
    });
    expect(report([decision()]).velocity).toBeNull();
  });
});

describe('what blocking one signal would add, per route', () => {
  test('counts the decisions with the signal that the policy let through, invalid phones left out', () => {
    const r = report([
      decision({ route: '/signup', signals: ['hosting'], action: 'flag', policyAction: 'flag' }),
      decision({
        route: '/signup',
        signals: ['hosting', 'ip_velocity'],
        action: 'flag',
        policyAction: 'flag',
      }),
      decision({ route: '/checkout', signals: ['hosting'], action: 'block', policyAction: 'block' }),
      decision({
        route: '/checkout',
        signals: ['ip_velocity'],
        reason: 'phone_invalid',
        matchLevel: 'unknown',
      }),
      decision({ route: '/checkout', signals: ['ip_velocity'], action: 'flag', policyAction: 'flag' }),
    ]);
    const rows = Object.fromEntries(r.whatIf.rows.map((x) => [x.all ? '*' : x.route, x.signals]));
    expect(rows).toEqual({
      '*': [
        { signal: 'hosting', blocked: 2, share: 2 / 5 },
        { signal: 'ip_velocity', blocked: 2, share: 2 / 5 },
      ],
      '/signup': [
        { signal: 'hosting', blocked: 2, share: 1 },
        { signal: 'ip_velocity', blocked: 1, share: 1 / 2 },
      ],
      '/checkout': [{ signal: 'ip_velocity', blocked: 1, share: 1 / 3 }],
    });
    // Over every route, the same as each signal's ifBlocked.
    expect(r.signals.map((s) => [s.signal, s.ifBlocked])).toEqual([
      ['hosting', 2],
      ['ip_velocity', 2],
    ]);
    expect(formatReport(r)).toMatch(/^ {2}\/checkout +- +1 33\.3%$/m);
  });
});
