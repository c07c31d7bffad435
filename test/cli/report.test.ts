import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Report } from '../../src/observe/report/figures.js';

/**
 * test/fixtures/decisions.ndjson: 15 lines written by hand, with every figure below counted by hand from it.
 * 11 decisions over /signup (7), /checkout (3) and a direct check() (1), 2026-11-02 to 2026-11-06; an empty
 * line; 3 bad lines (3: not JSON, 8: no policyAction, 14: a time that is not a date).
 */
const FIXTURE = fileURLToPath(new URL('../fixtures/decisions.ndjson', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ipmatch-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[], stdin?: Readable) {
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
    ...(stdin ? { stdin } : {}),
  });
  return { code, stdout, stderr };
}

async function json(args: string[], stdin?: Readable): Promise<Report> {
  const { code, stdout } = await cli([...args, '--json'], stdin);
  expect(code).toBe(0);
  return JSON.parse(stdout) as Report;
}

const acts = (allow: number, flag: number, block: number) => ({ allow, flag, block });
const pair = (phoneCountry: string, ipCountry: string, count: number, share: number) => ({
  phoneCountry,
  ipCountry,
  count,
  share: expect.closeTo(share, 6),
});

describe('ipmatch report on a hand-counted fixture', () => {
  test('totals, routes, reasons, pairs, errors, signals and keyed numbers', async () => {
    const r = await json(['report', FIXTURE]);
    expect(r.input).toEqual({
      sources: [FIXTURE],
      lines: 14,
      filtered: 0,
      bad: {
        count: 3,
        first: [
          { source: FIXTURE, line: 3, problem: 'not JSON' },
          { source: FIXTURE, line: 8, problem: 'missing field "policyAction"' },
          { source: FIXTURE, line: 14, problem: 'field "time" is not a date' },
        ],
      },
    });
    expect(r.span).toEqual({ from: '2026-11-02T09:00:00.000Z', to: '2026-11-06T12:00:00.000Z' });
    expect(r.totals).toEqual({
      route: null,
      decisions: 11,
      byAction: acts(6, 4, 1),
      byPolicyAction: acts(6, 1, 4),
      byMatchLevel: { country: 4, mismatch: 4, unknown: 3 },
      byReason: {
        country_mismatch: 4,
        country_match: 3,
        ip_not_public: 1,
        lookup_timeout: 1,
        phone_invalid: 1,
        roaming_match: 1,
      },
    });
    expect(r.routes.map((x) => [x.route, x.decisions, x.byAction, x.byPolicyAction])).toEqual([
      ['/signup', 7, acts(4, 3, 0), acts(4, 0, 3)],
      ['/checkout', 3, acts(1, 1, 1), acts(1, 1, 1)],
      [null, 1, acts(1, 0, 0), acts(1, 0, 0)],
    ]);
    expect(r.pairs).toEqual({ mismatches: 4, top: [pair('GB', 'KR', 3, 0.75), pair('US', 'MX', 1, 0.25)] });
    expect(r.errors).toEqual([{ code: 'lookup_timeout', count: 1 }]);
    // One of the two was blocked already (line 12): blocking sim_swapped would add the flagged one (line 13).
    expect(r.signals).toEqual([
      {
        signal: 'sim_swapped',
        family: 'sim_swap',
        count: 2,
        ifBlocked: 1,
        ifBlockedShare: expect.closeTo(1 / 11, 6),
      },
    ]);
    expect(r.families.find((f) => f.family === 'sim_swap')?.decisions).toBe(2);
    expect(r.networks).toEqual([]);
    // A log from before velocity and prefixKey were logged: neither section has figures.
    expect([r.velocity, r.prefixes]).toEqual([null, null]);
    expect(r.phones).toEqual({ keyedLines: 10, distinct: 7, repeated: 2, capped: false });
  });

  test('a span over three days is drawn per day, empty days included', async () => {
    const r = await json(['report', FIXTURE]);
    expect(r.timeline).toEqual({
      unit: 'day',
      buckets: [
        { start: '2026-11-02T00:00:00.000Z', ...acts(1, 0, 3) },
        { start: '2026-11-03T00:00:00.000Z', ...acts(4, 0, 0) },
        { start: '2026-11-04T00:00:00.000Z', ...acts(0, 0, 0) },
        { start: '2026-11-05T00:00:00.000Z', ...acts(0, 0, 0) },
        { start: '2026-11-06T00:00:00.000Z', ...acts(1, 1, 1) },
      ],
    });
  });

  test('what-if: the policy in force and the candidates, per route, with the pairs behind them', async () => {
    const r = await json(['report', FIXTURE]);
    expect(r.whatIf.policies.map((p) => p.id)).toEqual([
      'in_force',
      'mismatch',
      'mismatch_and_roaming',
      'mismatch_and_unknown',
    ]);
    const blocked = r.whatIf.rows.map((row) => [
      row.route,
      row.decisions,
      ...row.results.map((x) => x.blocked),
    ]);
    expect(blocked).toEqual([
      [null, 11, 4, 4, 5, 5], // all routes: + the roaming match FR → ES; + ip_not_public (not the timeout)
      ['/signup', 7, 3, 3, 4, 4],
      ['/checkout', 3, 1, 1, 1, 1], // the invalid phone is never a policy's block
      [null, 1, 0, 0, 0, 0],
    ]);
    expect(r.whatIf.rows[0]!.all).toBe(true);
    const [inForce, , roaming, unknown] = r.whatIf.rows[0]!.results;
    expect(inForce!.share).toBeCloseTo(4 / 11, 6);
    expect(inForce!.top).toEqual([pair('GB', 'KR', 3, 0.75), pair('US', 'MX', 1, 0.25)]);
    expect(roaming!.top).toEqual([
      pair('GB', 'KR', 3, 0.6),
      pair('FR', 'ES', 1, 0.2),
      pair('US', 'MX', 1, 0.2),
    ]);
    expect(unknown!.top).toEqual([
      pair('GB', 'KR', 3, 0.6),
      pair('GB', '??', 1, 0.2),
      pair('US', 'MX', 1, 0.2),
    ]);
  });

  test('--since and --until keep whole UTC days; --route takes a pattern', async () => {
    const day = await json(['report', FIXTURE, '--since', '2026-11-03', '--until', '2026-11-03']);
    expect([day.totals.decisions, day.input.filtered]).toEqual([4, 7]);
    expect(day.filters).toEqual({
      since: '2026-11-03T00:00:00.000Z',
      until: '2026-11-04T00:00:00.000Z',
      route: null,
    });
    expect(day.timeline.unit).toBe('hour');
    const from = await json(['report', FIXTURE, '--since', '2026-11-03T09:30:00Z']);
    expect(from.totals.decisions).toBe(5);
    const signup = await json(['report', FIXTURE, '--route', '/signup']);
    expect(signup.routes.map((x) => x.route)).toEqual(['/signup']);
    expect(signup.totals.decisions).toBe(7);
    const check = await json(['report', FIXTURE, '--route', '/check*']);
    expect([check.totals.decisions, check.input.filtered]).toEqual([3, 8]);
  });

  test('reads gzip, stdin (gzipped or not) and several sources into one report', async () => {
    const text = readFileSync(FIXTURE);
    const gz = join(dir, 'decisions.ndjson.gz');
    writeFileSync(gz, gzipSync(text));
    const plain = await json(['report', FIXTURE]);
    const fromGz = await json(['report', gz]);
    const { input: gzInput, ...gzFigures } = fromGz;
    const { input: plainInput, ...plainFigures } = plain;
    expect(gzFigures).toEqual(plainFigures);
    expect([gzInput.lines, gzInput.bad.count]).toEqual([plainInput.lines, plainInput.bad.count]);
    const fromStdin = await json(['report', '-'], Readable.from([text]));
    expect(fromStdin.totals).toEqual(plain.totals);
    const gzStdin = await json(['report', '-'], Readable.from([gzipSync(text)]));
    expect(gzStdin.totals).toEqual(plain.totals);
    const both = await json(['report', FIXTURE, gz]);
    expect(both.totals.decisions).toBe(22);
    expect(both.input.bad.count).toBe(6);
    expect(both.input.bad.first.map((b) => `${b.source === gz ? 'gz' : 'plain'}:${b.line}`)).toEqual([
      'plain:3',
      'plain:8',
      'plain:14',
      'gz:3',
      'gz:8',
    ]);
  });

  test('lines split across chunks, CRLF endings and no final newline read the same', async () => {
    const text = readFileSync(FIXTURE, 'utf8').replace(/\n/g, '\r\n').trimEnd();
    const chunks = text.match(/[\s\S]{1,7}/g)!;
    const r = await json(['report', '-'], Readable.from(chunks));
    const plain = await json(['report', FIXTURE]);
    expect(r.totals).toEqual(plain.totals);
    expect(r.input.bad.first.map((b) => b.line)).toEqual([3, 8, 14]);
  });

  test('the terminal summary names routes, reasons, pairs, the what-if and bad lines', async () => {
    const { code, stdout } = await cli(['report', FIXTURE]);
    expect(code).toBe(0);
    expect(stdout).toContain('11 decisions · 2026-11-02 09:00 → 2026-11-06 12:00 UTC');
    expect(stdout).toContain(`3 bad lines skipped, first: ${FIXTURE}:3 not JSON`);
    expect(stdout).toContain('The policy in force blocks 4 of 11 (36.4%); mismatches: 4.');
    expect(stdout).toMatch(/\/signup\s+7\s+4\s+3\s+0\s+│\s+4\s+0\s+3/);
    expect(stdout).toMatch(/GB → KR\s+3\s+75\.0%/);
    expect(stdout).toMatch(/all routes\s+11\s+4 36\.4%\s+4 36\.4%\s+5 45\.5%\s+5 45\.5%/);
    expect(stdout).toMatch(/lookup_timeout\s+1/);
  });

  test('--html writes one page; stdout keeps the summary', async () => {
    const page = join(dir, 'report.html');
    const { code, stdout, stderr } = await cli(['report', FIXTURE, '--html', page]);
    expect(code).toBe(0);
    expect(stdout).toContain('11 decisions');
    expect(stderr).toBe(`ipmatch: wrote ${page}\n`);
    const html = readFileSync(page, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|src=|href=|@import|url\(/i);
  });

  test('route names from the file are escaped on the page', async () => {
    const evil = join(dir, 'evil.ndjson');
    writeFileSync(
      evil,
      `${JSON.stringify({ time: '2026-11-02T09:00:00Z', route: '<img src=x onerror=alert(1)>', action: 'allow', policyAction: 'allow', matchLevel: 'mismatch', reason: 'country_mismatch', phoneCountry: '<b>', ipCountry: 'KR' })}\n`,
    );
    const page = join(dir, 'evil.html');
    await cli(['report', evil, '--html', page]);
    const html = readFileSync(page, 'utf8');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>&');
    expect(html).toContain('&#60;img src=x');
  });

  test('mistakes exit 1 with a message that says what to do', async () => {
    const none = await cli(['report']);
    expect([none.code, none.stderr]).toEqual([
      1,
      expect.stringContaining('report needs decision logs to read'),
    ]);
    const missing = await cli(['report', join(dir, 'nope.ndjson')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.ndjson: no such file');
    const date = await cli(['report', FIXTURE, '--since', 'last week']);
    expect(date.stderr).toContain('--since: expected a date such as 2026-11-01');
    const order = await cli(['report', FIXTURE, '--since', '2026-11-05', '--until', '2026-11-01']);
    expect(order.stderr).toContain('--since (2026-11-05) must come before --until (2026-11-01)');
    const typo = await cli(['report', FIXTURE, '--rout', '/signup']);
    expect(typo.stderr).toContain('did you mean --route?');
  });
});
