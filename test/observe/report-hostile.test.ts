import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Report } from '../../src/observe/report/figures.js';

/** `ipmatch report` on logs written to hurt it: extreme dates, escape sequences, markup. */
const dir = mkdtempSync(join(tmpdir(), 'ipmatch-report-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: {},
  });
  return { code, stdout, stderr };
}

const line = (fields: Record<string, unknown>) =>
  JSON.stringify({
    time: '2026-11-02T09:00:00.000Z',
    route: '/signup',
    action: 'allow',
    policyAction: 'allow',
    matchLevel: 'country',
    reason: 'country_match',
    ...fields,
  });

function log(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** C0 but newline, DEL, C1, and the bidi and separator characters a terminal may act on. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const ACTIVE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('ipmatch report on dates JavaScript accepts but no log holds', () => {
  test('lines dated 0001 and 9999 are two bad lines, not a stack overflow (with --html too)', async () => {
    const path = log('ancient.ndjson', [
      line({ time: '0001-01-01T00:00:00Z' }),
      line({ time: '9999-12-31T00:00:00Z' }),
      line({ time: '+275760-09-13T00:00:00Z' }),
      line({ time: '1999-12-31T23:59:59.999Z' }),
      line({ time: '2101-01-01T00:00:00Z' }),
    ]);
    const page = join(dir, 'ancient.html');
    const { code, stdout } = await cli(['report', path, '--html', page]);
    expect(code).toBe(0);
    expect(stdout).toContain(`5 bad lines skipped, first: ${path}:1 field "time" is outside 2000–2100`);
    const r = JSON.parse((await cli(['report', path, '--json'])).stdout) as Report;
    expect([r.input.bad.count, r.totals.decisions, r.timeline.buckets.length]).toEqual([5, 0, 0]);
    expect(readFileSync(page, 'utf8')).toContain('data-figure="bad-lines" data-value="5"');
  });

  test('2000-01-01 and 2100-12-31 are counted, per month: 1,212 buckets, and both outputs say so', async () => {
    const path = log('century.ndjson', [
      line({ time: '2000-01-01T00:00:00.000Z' }),
      line({ time: '2100-12-31T23:59:59.999Z', policyAction: 'block' }),
    ]);
    const r = JSON.parse((await cli(['report', path, '--json'])).stdout) as Report;
    expect(r.input.bad.count).toBe(0);
    expect(r.timeline.unit).toBe('month');
    expect(r.timeline.buckets).toHaveLength(101 * 12);
    expect(r.timeline.buckets[0]).toEqual({ start: '2000-01-01T00:00:00.000Z', allow: 1, flag: 0, block: 0 });
    expect(r.timeline.buckets.at(-1)).toEqual({
      start: '2100-12-01T00:00:00.000Z',
      allow: 0,
      flag: 0,
      block: 1,
    });
    const page = join(dir, 'century.html');
    const { stdout } = await cli(['report', path, '--html', page]);
    expect(stdout).toContain('Timeline: 1,212 buckets, per month, as the span is over 5 years');
    const html = readFileSync(page, 'utf8');
    expect(html).toContain('<h2>Decisions per month, by what the policy decided</h2>');
    expect(html).toContain('Counted per month, as the span is over 5 years.');
    expect(html.match(/<g><title>/g)).toHaveLength(1212);
  });
});

describe('ipmatch report on fields that carry escape sequences', () => {
  const TITLE = '\x1b]0;owned\x07';
  const CLEAR = '\x1b[2J\x1b[H';
  const LINK = '\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\';
  const C1 = '\x9b31m\x9d2;title\x9c\x85';
  const BIDI = '\u202egnp.exe\u202c\u2066';
  const hostile = `${TITLE}${CLEAR}${LINK}${C1}${BIDI}\r\n\tEND\x7f`;
  const lines = [
    line({
      route: `/signup${hostile}`,
      reason: `country_mismatch${hostile}`,
      matchLevel: 'mismatch',
      policyAction: 'block',
      errorCode: `timeout${hostile}`,
      signals: [`sim_swapped${hostile}`],
      phoneCountry: `G${hostile}`,
      ipCountry: 'KR',
    }),
    `${hostile} not JSON`,
  ];

  test('the printed summary holds no ESC, BEL, C1, DEL or bidi character; what was there shows as �', async () => {
    const path = log(`escapes${TITLE}.ndjson`, lines);
    const { code, stdout } = await cli(['report', path]);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(ACTIVE);
    expect(stdout).not.toContain('https://evil.example');
    expect(stdout).toContain('/signup�');
    expect(stdout).toContain('click me');
    // The hostile line break stays inside its name: no printed line starts with it.
    expect(stdout.split('\n').some((l) => l.startsWith('\tEND') || l.startsWith('END'))).toBe(false);
    // The raw line's CR LF ends it: two bad lines.
    expect(stdout).toMatch(/2 bad lines skipped, first: .*escapes�\.ndjson:2 not JSON; .*:3 not JSON/);
  });

  test('--json writes the fields as they were, with C1 and bidi as \\u escapes; the --html message is clean', async () => {
    const path = log('escapes.ndjson', lines);
    const page = join(dir, `page${CLEAR}.html`);
    const { stdout, stderr } = await cli(['report', path, '--json', '--html', page]);
    expect(stdout).not.toMatch(ACTIVE);
    expect(stderr).not.toMatch(ACTIVE);
    const r = JSON.parse(stdout) as Report;
    expect(r.routes[0]!.route).toBe(`/signup${hostile}`);
    expect(r.errors).toEqual([{ code: `timeout${hostile}`, count: 1 }]);
    const html = readFileSync(page, 'utf8');
    expect(html).not.toMatch(ACTIVE);
    expect(html).not.toContain('evil.example/\x1b');
  });

  test('markup in every field the page shows is escaped', async () => {
    const markup = '</title><script>alert(1)</script><img src=x onerror=alert(2)>"\'';
    const path = log('markup.ndjson', [
      line({
        route: markup,
        reason: markup,
        errorCode: markup,
        matchLevel: 'mismatch',
        policyAction: 'block',
        phoneCountry: 'GB',
        ipCountry: 'KR',
      }),
    ]);
    const page = join(dir, 'markup.html');
    await cli(['report', path, '--html', page]);
    const html = readFileSync(page, 'utf8');
    expect(html).not.toMatch(/<script|<img|onerror=alert\(2\)>|<\/title><script/i);
    expect(html.match(/&#60;\/title&#62;&#60;script&#62;/g)!.length).toBeGreaterThanOrEqual(3);
  });
});

describe('ipmatch report on the signal and velocity fields of a hostile log', () => {
  const KEY = 'ab'.repeat(16);
  const osc = '\x1b]0;owned\x07\u202e';
  const markup = '<img src=x onerror=alert(3)>';

  test('a prefixKey that is not a keyed label (a prefix in clear, markup, escapes) is never shown', async () => {
    const path = log('prefixes.ndjson', [
      line({ prefixKey: KEY }),
      line({ prefixKey: '+4474001' }),
      line({ prefixKey: `${KEY}${osc}` }),
      line({ prefixKey: markup }),
      line({ prefixKey: 'AB'.repeat(16) }),
      line({ prefixKey: 'a'.repeat(65) }),
      line({ prefixKey: 12345 }),
    ]);
    const r = JSON.parse((await cli(['report', path, '--json'])).stdout) as Report;
    expect(r.totals.decisions).toBe(7);
    expect(r.prefixes).toEqual({
      keyedLines: 1,
      held: 1,
      approximate: false,
      top: [{ prefixKey: KEY, count: 1, overcount: 0 }],
    });
    const page = join(dir, 'prefixes.html');
    const { stdout } = await cli(['report', path, '--html', page]);
    for (const text of [stdout, readFileSync(page, 'utf8')]) {
      expect(text).not.toContain('+4474001');
      expect(text).not.toContain('onerror');
      expect(text).not.toMatch(ACTIVE);
    }
  });

  test('velocity counts that are not whole numbers from 0 to a billion count for nothing', async () => {
    const ok = { ip: 4, subnet: 4, phoneCountries: 1, prefix: 2 };
    const path = log('velocity.ndjson', [
      line({ velocity: ok }),
      line({ velocity: { ...ok, ip: -1 } }),
      line({ velocity: { ...ok, subnet: 2.5 } }),
      line({ velocity: { ...ok, prefix: 1e300 } }),
      line({ velocity: { ...ok, phoneCountries: '3' } }),
      line({ velocity: { ip: 1, subnet: 1, prefix: 1 } }),
      line({ velocity: [4, 4, 1, 2] }),
      line({ velocity: 'fast' }),
    ]);
    const r = JSON.parse((await cli(['report', path, '--json'])).stdout) as Report;
    expect(r.totals.decisions).toBe(8);
    expect(r.velocity).toMatchObject({ counted: 1, ip: { buckets: [0, 0, 0, 0, 1, 0, 0], max: 4 } });
  });

  test('signal, network and number-type names with escapes and markup are inert in every section', async () => {
    const path = log('names.ndjson', [
      line({
        signals: [`hosting${osc}`, markup, '__proto__', 'ip_velocity', 'toString'],
        ipNetwork: `aws${osc}${markup}`,
        phoneType: `mobile${osc}${markup}`,
        velocity: { ip: 1, subnet: 1, phoneCountries: 1, prefix: 1 },
      }),
    ]);
    const r = JSON.parse((await cli(['report', path, '--json'])).stdout) as Report;
    expect(r.signals.map((s) => [s.signal, s.family])).toEqual([
      ['ip_velocity', 'velocity'],
      [markup, 'other'],
      ['__proto__', 'other'],
      [`hosting${osc}`, 'other'],
      ['toString', 'other'],
    ]);
    expect(r.families.at(-1)).toMatchObject({ family: 'other', decisions: 1 });
    const page = join(dir, 'names.html');
    const { stdout } = await cli(['report', path, '--html', page]);
    const html = readFileSync(page, 'utf8');
    for (const text of [stdout, html]) expect(text).not.toMatch(ACTIVE);
    expect(html).not.toMatch(/<img|onerror=alert\(3\)>/);
    expect(stdout).toContain('networks: aws��&lt;img'.replace('&lt;', '<'));
  });
});
