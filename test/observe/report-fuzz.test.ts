import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ReportBuilder } from '../../src/observe/report/aggregate.js';
import { reportPage } from '../../src/observe/report/html.js';
import { terminalJson } from '../../src/observe/report/inert.js';
import { readSource } from '../../src/observe/report/read.js';
import { formatReport } from '../../src/observe/report/terminal.js';

/**
 * Any input at all: arbitrary text, arbitrary JSON, and decision-shaped lines whose every field is hostile
 * (dates JavaScript accepts from year -271821 to 275760, escape sequences, markup, "__proto__", huge names),
 * cut into arbitrary chunks. The report never throws, and every output is bounded by the caps, not the input.
 */
const LIMITS = { routes: 4, reasons: 3, names: 3, pairs: 5, routePairs: 2, phones: 6, prefixes: 4 };
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const ACTIVE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const payload = fc.constantFrom(
  '\x1b]0;owned\x07',
  '\x1b[2J\x1b[3J\x1bc',
  '\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\',
  '\x9b6n\x9d0;t\x9c\x90q\x9c',
  '\u202e\u2066\u2028',
  '</title><script>alert(1)</script>',
  '__proto__',
  'constructor',
  '(other)',
  '(other routes)',
  '\x1b]0;unterminated',
);
const hostile = fc.oneof(
  payload,
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.tuple(fc.string({ maxLength: 5 }), payload, fc.string({ maxLength: 5 })).map((p) => p.join('')),
  fc.integer({ min: 190, max: 400 }).map((n) => 'é'.repeat(n)),
);
const anyValue = fc.oneof(hostile, fc.constant(null), fc.integer(), fc.jsonValue({ maxDepth: 2 }));
/** Mostly a value the report counts by, sometimes anything: enough lines get through to reach the caps. */
const valid = <T>(values: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: values, weight: 6 }, { arbitrary: anyValue, weight: 1 });
const time = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  {
    arbitrary: fc
      .date({
        min: new Date('1999-12-31T00:00:00Z'),
        max: new Date('2101-01-02T00:00:00Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString()),
    weight: 4,
  },
  {
    arbitrary: fc
      .integer({ min: 0, max: 10 * 86_400_000 })
      .map((ms) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString()),
    weight: 4,
  },
  fc.constantFrom('0001-01-01T00:00:00Z', '9999-12-31T00:00:00Z', '+275760-09-13T00:00:00.000Z', '1'),
  hostile,
);
const decisionLine = fc
  .record({
    time,
    route: anyValue,
    action: valid(fc.constantFrom('allow', 'flag', 'block')),
    policyAction: fc.constantFrom('allow', 'flag', 'block'),
    matchLevel: valid(fc.constantFrom('country', 'mismatch', 'unknown')),
    reason: hostile,
    signals: fc.oneof(fc.array(anyValue, { maxLength: 5 }), anyValue),
    ipCountry: valid(fc.constantFrom('GB', 'KR', 'us', 'DE')),
    phoneCountry: valid(fc.constantFrom('GB', 'FR', 'KR', 'IT')),
    errorCode: anyValue,
    phoneKey: fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), anyValue),
    ipNetwork: fc.oneof(fc.constantFrom('aws', 'tor'), anyValue),
    phoneType: fc.oneof(fc.constantFrom('mobile', 'premium_rate'), anyValue),
    velocity: valid(
      fc.record({
        ip: valid(fc.nat(20)),
        subnet: valid(fc.oneof(fc.nat(20), fc.double(), fc.integer({ min: -5, max: -1 }))),
        phoneCountries: valid(fc.nat(5)),
        prefix: valid(fc.oneof(fc.nat(20), fc.constant(1e300), fc.constant(2 ** 53))),
      }),
    ),
    prefixKey: fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), fc.constantFrom('+4474001', '<b>'), anyValue),
  })
  .map((o) => JSON.stringify(o));
const line = fc.oneof(
  { arbitrary: decisionLine, weight: 4 },
  fc.json({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.integer({ min: 1, max: 5000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
);
/** The text of a log cut into chunks at arbitrary points (a chunk may end inside a character or a line). */
const chunked = fc
  .tuple(
    fc.array(line, { minLength: 5, maxLength: 60, size: 'max' }),
    fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }),
  )
  .map(([lines, sizes]) => {
    const bytes = Buffer.from(lines.join('\n'));
    const chunks: Buffer[] = [];
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const size = sizes[i % sizes.length]!;
      chunks.push(bytes.subarray(at, at + size));
      at += size;
    }
    return chunks;
  });

describe('ipmatch report on any input', () => {
  test('never throws, and its figures and outputs stay within the caps', async () => {
    await fc.assert(
      fc.asyncProperty(chunked, async (chunks) => {
        const builder = new ReportBuilder({}, LIMITS);
        await readSource('fuzz', Readable.from(chunks), builder);
        const r = builder.result();
        const { input, totals } = r;
        expect(totals.decisions + input.bad.count + input.filtered).toBe(input.lines);
        expect(r.routes.length).toBeLessThanOrEqual(LIMITS.routes + 1);
        expect(r.routes.reduce((n, x) => n + x.decisions, 0)).toBe(totals.decisions);
        for (const x of [totals, ...r.routes]) {
          expect(Object.keys(x.byReason).length).toBeLessThanOrEqual(LIMITS.reasons + 1);
        }
        expect(r.errors.length).toBeLessThanOrEqual(LIMITS.names + 1);
        expect(r.signals.length).toBeLessThanOrEqual(LIMITS.names + 1);
        expect(r.pairs.top.length).toBeLessThanOrEqual(LIMITS.pairs);
        expect(r.timeline.buckets.length).toBeLessThanOrEqual(1212);
        const inBuckets = r.timeline.buckets.reduce((n, b) => n + b.allow + b.flag + b.block, 0);
        expect(inBuckets).toBe(totals.decisions);
        if (r.phones) expect(r.phones.distinct).toBeLessThanOrEqual(LIMITS.phones);
        expect(r.networks.length).toBeLessThanOrEqual(LIMITS.names + 1);
        for (const row of r.whatIf.rows) expect(row.signals.length).toBeLessThanOrEqual(LIMITS.names + 1);
        expect(r.phoneTypes.length).toBeLessThanOrEqual(LIMITS.names + 1);
        const known = r.families.filter((f) => f.family !== 'other').map((f) => f.family);
        expect(known).toEqual(['client_ip', 'ip_nature', 'number', 'velocity', 'sim_swap']);
        if (r.velocity) {
          for (const k of ['ip', 'subnet', 'phoneCountries', 'prefix'] as const) {
            const spread = r.velocity[k];
            expect(spread.buckets.reduce((a, b) => a + b, 0)).toBe(r.velocity.counted);
            expect(spread.max).toBeLessThanOrEqual(1e9);
          }
        }
        if (r.prefixes) {
          expect(r.prefixes.held).toBeLessThanOrEqual(LIMITS.prefixes);
          expect(r.prefixes.top.every((p) => /^[0-9a-f]{32}$/.test(p.prefixKey))).toBe(true);
        }

        const text = formatReport(r);
        expect(text).not.toMatch(ACTIVE);
        expect(text.length).toBeLessThan(40_000);
        const json = terminalJson(r);
        expect(json).not.toMatch(ACTIVE);
        expect(JSON.parse(json)).toEqual(r);
        expect(json.length).toBeLessThan(300_000);
        const page = reportPage(r);
        expect(page).not.toMatch(/<script|<\/title><script/i);
        expect(page.length).toBeLessThan(400_000);
      }),
      { numRuns: 150 },
    );
  });
});
