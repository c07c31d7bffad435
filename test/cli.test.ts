import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FakeVonage, startFakeVonage } from 'ipmatch/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCli } from '../src/cli/args.js';
import { UsageError } from '../src/cli/usage-error.js';
import { writeMmdb } from './fixtures/mmdb-writer.js';

// The CLI is run as a user runs it: a separate process, through tsx so that no build is needed.
const root = fileURLToPath(new URL('..', import.meta.url));
const DAY_MS = 86_400_000;

/** The parent's environment without Vonage credentials, so that a developer's own never leak into a test. */
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VONAGE_')));

/** Processes at once: more than the cores only makes each one slow. */
let slots = Math.max(2, availableParallelism());
const waiting: (() => void)[] = [];
async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (slots === 0) await new Promise<void>((resolve) => waiting.push(resolve));
  else slots--;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else slots++;
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `ipmatch …args`. A CLI that does not exit by itself is killed after 60 s and shows up as code null. */
function ipmatch(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return slot(() => run(args, env));
}

function run(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: root,
      env: { ...baseEnv, ...env },
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * stderr without the stale-data warning, which the bundled data earns once it is 180 days old: that day
 * comes without any change here, and the warning going to stderr is what keeps stdout parseable.
 */
function noise(stderr: string): string {
  return stderr.replace(/^ipmatch: the GeoIP data \(.*\) was built \d+ days ago.*\n/m, '');
}

/** Exit 0, nothing but a possible stale-data warning on stderr, and stdout is exactly one JSON object. */
function decisionOf(run: Run) {
  expect(run.code).toBe(0);
  expect(noise(run.stderr)).toBe('');
  expect(run.stdout.endsWith('}\n')).toBe(true);
  return JSON.parse(run.stdout);
}

const dir = mkdtempSync(join(tmpdir(), 'ipmatch-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Spawning is slow on a busy machine; the timeouts only catch a CLI that hangs.
const slow = { timeout: 180_000 };

describe('ipmatch check', slow, () => {
  it('prints a match readably, and as JSON with --json', async () => {
    const [text, json] = await Promise.all([
      ipmatch(['check', '+447400123456', '81.2.69.160']),
      ipmatch(['check', '+447400123456', '81.2.69.160', '--json']),
    ]);
    expect(noise(text.stderr)).toBe('');
    expect(text).toMatchObject({
      code: 0,
      stdout: [
        'match     country (country_match)',
        'action    allow',
        'ip        81.2.69.160  GB',
        'phone     +447400123456  GB  mobile  valid',
        'velocity  ip 1, subnet 1, phoneCountries 1, prefix 1 (counted in this run alone)',
        'provider  local',
        '',
      ].join('\n'),
    });
    expect(decisionOf(json)).toEqual({
      action: 'allow',
      policyAction: 'allow',
      matchLevel: 'country',
      reason: 'country_match',
      ip: { address: '81.2.69.160', country: 'GB', network: null },
      phone: { number: '+447400123456', country: 'GB', roamingCountry: null, type: 'mobile', valid: true },
      provider: 'local',
      signals: [],
      cached: false,
      velocity: { ip: 1, subnet: 1, phoneCountries: 1, prefix: 1 },
      answer: null,
    });
  });

  it('prints a mismatch with the block the default policy makes, and still exits 0', async () => {
    const [text, json] = await Promise.all([
      ipmatch(['check', '+447400123456', '211.234.0.1']),
      ipmatch(['check', '--json', '+447400123456', '211.234.0.1']),
    ]);
    expect(text.code).toBe(0);
    expect(noise(text.stderr)).toBe('');
    expect(text.stdout).toMatch(/^match {5}mismatch \(country_mismatch\)$/m);
    expect(text.stdout).toMatch(/^action {4}block$/m);
    expect(text.stdout).toMatch(
      /^answer {4}403 ip_phone_mismatch: The phone number's country does not match/m,
    );
    expect(text.stdout).toMatch(/^ip {8}211\.234\.0\.1 {2}KR$/m);
    expect(text.stdout).toMatch(/^phone {5}\+447400123456 {2}GB {2}mobile {2}valid$/m);
    expect(decisionOf(json)).toMatchObject({
      action: 'block',
      matchLevel: 'mismatch',
      reason: 'country_mismatch',
      ip: { country: 'KR' },
      phone: { country: 'GB' },
    });
  });

  it("prints the IP-nature signals and the network: a Tor exit, and a Private Relay egress in Apple's country", async () => {
    const [tor, relay] = await Promise.all([
      ipmatch(['check', '+12025550123', '204.8.96.141']),
      ipmatch(['check', '+61412345678', '104.28.137.110', '--json']),
    ]);
    expect(noise(tor.stderr)).toBe('');
    expect(tor.stdout).toMatch(/^action {4}flag$/m);
    expect(tor.stdout).toMatch(/^network {3}tor$/m);
    expect(tor.stdout).toMatch(/^signals {3}tor_exit$/m);
    expect(decisionOf(relay)).toMatchObject({
      reason: 'country_match',
      signals: ['private_relay'],
      ip: { address: '104.28.137.110', country: 'AU', network: 'icloud-private-relay' },
    });
  });

  it('shows phone_invalid as a route answers it (400, not allow), exit 0, with a hint for national numbers', async () => {
    const [json, national] = await Promise.all([
      ipmatch(['check', 'call me maybe', '81.2.69.160', '--json']),
      ipmatch(['check', '07400 123456', '81.2.69.160']),
    ]);
    expect(decisionOf(json)).toMatchObject({
      action: 'allow',
      matchLevel: 'unknown',
      reason: 'phone_invalid',
      phone: { number: null, country: null },
      answer: {
        status: 400,
        body: {
          error: 'invalid_phone',
          message:
            'Not a valid phone number at "phone" in the request body: use the international format, such as +447400123456.',
        },
      },
    });
    expect(national.code).toBe(0);
    expect(national.stdout).toMatch(/^match {5}unknown \(phone_invalid\)$/m);
    expect(national.stdout).toMatch(/^action {4}reject /m);
    expect(national.stdout).toMatch(/^answer {4}400 invalid_phone: Not a valid phone number/m);
    expect(national.stdout).not.toMatch(/allow/);
    expect(national.stdout).toMatch(/^phone {5}"07400 123456" is not a phone number$/m);
    // The hint is advice, not the result: it stays off stdout.
    expect(national.stderr).toMatch(/needs --country, e\.g\. --country GB/);
  });

  it('reads a national-format number with --country, in either case', async () => {
    const [text, json] = await Promise.all([
      ipmatch(['check', '07400 123456', '81.2.69.160', '--country', 'gb']),
      ipmatch(['check', '07400 123456', '81.2.69.160', '--country=GB', '--json']),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^phone {5}\+447400123456 {2}GB {2}mobile {2}valid$/m);
    expect(text.stdout).toMatch(/^match {5}country \(country_match\)$/m);
    expect(decisionOf(json)).toMatchObject({
      matchLevel: 'country',
      phone: { number: '+447400123456', country: 'GB' },
    });
  });

  it('uses another MMDB with --database, warning on stderr that it is stale while stdout stays JSON', async () => {
    const file = join(dir, 'old-ie.mmdb');
    writeFileSync(
      file,
      writeMmdb({
        ipVersion: 4,
        databaseType: 'country ipv4',
        buildEpoch: new Date('2020-01-01T00:00:00Z'),
        networks: { '81.2.69.0/24': { country_code: 'IE' } },
      }),
    );
    const [check, db] = await Promise.all([
      ipmatch(['check', '+447400123456', '81.2.69.160', '--database', file, '--json']),
      ipmatch(['db', '--database', file]),
    ]);
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({
      matchLevel: 'mismatch',
      ip: { address: '81.2.69.160', country: 'IE' },
    });
    expect(check.stderr).toMatch(/GeoIP data .* was built \d+ days ago, on 2020-01-01/);
    expect(db.code).toBe(0);
    expect(db.stdout).toMatch(/^source {4}.*old-ie\.mmdb$/m);
    expect(db.stdout).toMatch(/^built {5}2020-01-01 \(\d+ days ago\)$/m);
    expect(db.stdout).toMatch(/^ipv4 {6}yes$/m);
    expect(db.stdout).toMatch(/^ipv6 {6}no$/m);
    expect(db.stdout).toMatch(/^chosen {4}path: passed as `database`$/m);
    expect(db.stderr).toMatch(/was built \d+ days ago/);
  });
});

describe('ipmatch check --vonage', slow, () => {
  const secret = 'cli-S3cret-do-not-print';
  let fake: FakeVonage;
  beforeAll(async () => {
    fake = await startFakeVonage({
      apiKey: 'cli-key',
      apiSecret: secret,
      roaming: { status: 'roaming', roaming_country_code: 'KR' },
    });
  });
  afterAll(() => fake.close());
  const env = (apiSecret: string) => ({
    VONAGE_API_KEY: 'cli-key',
    VONAGE_API_SECRET: apiSecret,
    VONAGE_BASE_URL: fake.url,
  });

  it('looks the number up with Vonage, reading the credentials from the environment', async () => {
    const [text, json] = await Promise.all([
      ipmatch(['check', '+447400123456', '211.234.0.1', '--vonage'], env(secret)),
      ipmatch(['check', '+447400123456', '211.234.0.1', '--vonage', '--json'], env(secret)),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^match {5}country \(roaming_match\)$/m);
    expect(text.stdout).toMatch(/^roaming {3}KR$/m);
    expect(text.stdout).toMatch(/^provider {2}vonage$/m);
    expect(decisionOf(json)).toMatchObject({
      matchLevel: 'country',
      reason: 'roaming_match',
      provider: 'vonage',
      phone: { number: '+447400123456', country: 'GB', roamingCountry: 'KR' },
    });
    for (const out of [text.stdout, text.stderr, json.stdout, json.stderr]) expect(out).not.toContain(secret);
    expect(fake.requests.length).toBeGreaterThanOrEqual(2);
    expect(fake.requests.every((r) => r.authorized && r.auth === 'header')).toBe(true);
  });

  it('turns rejected credentials into a decision with an error, exit 0, without printing the secret', async () => {
    const wrong = 'wrong-S3cret-never-shown';
    const run = await ipmatch(['check', '+447400123456', '81.2.69.160', '--vonage'], env(wrong));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^match {5}unknown \(lookup_failed\)$/m);
    expect(run.stdout).toMatch(/^error {5}invalid_credentials: /m);
    expect(run.stderr).toMatch(/VONAGE_API_KEY \/ VONAGE_API_SECRET/);
    expect(run.stdout + run.stderr).not.toContain(wrong);
  });

  it('is a usage error without the credentials, naming both variables, or with a bad VONAGE_BASE_URL', async () => {
    const [missing, badUrl] = await Promise.all([
      ipmatch(['check', '+447400123456', '81.2.69.160', '--vonage'], { VONAGE_API_KEY: 'cli-key' }),
      ipmatch(['check', '+447400123456', '81.2.69.160', '--vonage'], {
        ...env(secret),
        VONAGE_BASE_URL: 'ftp://127.0.0.1/',
      }),
    ]);
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toMatch(
      /^ipmatch: --vonage needs VONAGE_API_KEY and VONAGE_API_SECRET .*\(missing: VONAGE_API_SECRET\)$/m,
    );
    expect(badUrl).toMatchObject({ code: 1, stdout: '' });
    expect(badUrl.stderr).toMatch(/^ipmatch: VONAGE_BASE_URL: expected an http\(s\) URL/m);
    expect(badUrl.stderr).not.toContain(secret);
  });
});

describe('ipmatch check --identity-insights', slow, () => {
  let fake: FakeVonage;
  let keyPath: string;
  beforeAll(async () => {
    fake = await startFakeVonage({ applicationId: 'c11a0000-0000-4000-8000-000000000001' });
    fake.insights('+447400123456', {
      roaming: { is_roaming: true, country_codes: ['KR', 'JP'] },
      sim_swap: { is_swapped: true, latest_sim_swap_at: '2026-11-30T08:00:00Z' },
    });
    keyPath = join(dir, 'private.key');
    writeFileSync(keyPath, fake.privateKey);
  });
  afterAll(() => fake.close());
  const keyLines = () => fake.privateKey.split('\n').slice(1, -2);

  it('reads the application id and the key file (or the key itself) from the environment', async () => {
    const oneLine = fake.privateKey.replaceAll('\n', '\\n');
    const [text, json] = await Promise.all([
      ipmatch(['check', '+447400123456', '211.234.0.1', '--identity-insights'], {
        VONAGE_APPLICATION_ID: 'c11a0000-0000-4000-8000-000000000001',
        VONAGE_PRIVATE_KEY_PATH: keyPath,
        VONAGE_BASE_URL: fake.url,
      }),
      ipmatch(['check', '+447400123456', '211.234.0.1', '--identity-insights', '--json'], {
        VONAGE_APPLICATION_ID: 'c11a0000-0000-4000-8000-000000000001',
        VONAGE_PRIVATE_KEY: oneLine,
        VONAGE_BASE_URL: fake.url,
      }),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^match +country \(roaming_match\)$/m);
    expect(text.stdout).toMatch(/^action +flag$/m);
    expect(text.stdout).toMatch(/^roaming +KR, JP$/m);
    expect(text.stdout).toMatch(/^signals +sim_swapped$/m);
    expect(decisionOf(json)).toMatchObject({
      provider: 'vonage-identity-insights',
      signals: ['sim_swapped'],
      phone: { roamingCountries: ['KR', 'JP'], simSwap: { swapped: true } },
    });
    for (const out of [text.stdout, text.stderr, json.stdout, json.stderr]) {
      for (const line of keyLines()) expect(out).not.toContain(line);
    }
  });

  it('is a usage error without the variables, or with a key that is not one, never printing it', async () => {
    const [missing, badKey] = await Promise.all([
      ipmatch(['check', '+447400123456', '81.2.69.160', '--identity-insights'], {
        VONAGE_APPLICATION_ID: 'c11a0000-0000-4000-8000-000000000001',
      }),
      ipmatch(['check', '+447400123456', '81.2.69.160', '--identity-insights'], {
        VONAGE_APPLICATION_ID: 'c11a0000-0000-4000-8000-000000000001',
        VONAGE_PRIVATE_KEY: 'secret-but-not-a-key-0123456789',
      }),
    ]);
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toMatch(
      /--identity-insights needs .*\(missing: VONAGE_PRIVATE_KEY_PATH \(or VONAGE_PRIVATE_KEY\)\)$/m,
    );
    expect(badKey).toMatchObject({ code: 1, stdout: '' });
    expect(badKey.stderr).toMatch(
      /VONAGE_PRIVATE_KEY_PATH or VONAGE_PRIVATE_KEY: expected the PEM text of an RSA private key/,
    );
    expect(badKey.stderr).not.toContain('secret-but');
  });
});

describe('ipmatch db', slow, () => {
  it('prints the bundled GeoIP data readably, and as JSON with --json', async () => {
    const [text, json] = await Promise.all([ipmatch(['db']), ipmatch(['db', '--json'])]);
    expect(text.code).toBe(0);
    expect(noise(text.stderr)).toBe('');
    expect(text.stdout).toMatch(/^source {4}geo-whois-asn-country \(ip-location-db, CC BY 4\.0 NRO\)$/m);
    expect(text.stdout).toMatch(/^built {5}\d{4}-\d{2}-\d{2} \(\d+ days? ago\)$/m);
    expect(text.stdout).toMatch(/^ipv4 {6}yes\nipv6 {6}yes\nschema {4}country_code\n/m);
    expect(text.stdout).toMatch(
      /^chosen {4}bundled: no file in the data dir yet: run `npx ipmatch db update`$/m,
    );
    expect(text.stdout).toMatch(/^data dir {2}.*ipmatch-tests-no-data-dir$/m);
    const info = decisionOf(json);
    expect(info).toMatchObject({ ipv4: true, ipv6: true, schema: 'country_code' });
    expect(info.ageDays).toBe(Math.floor((Date.now() - Date.parse(info.buildDate)) / DAY_MS));
    expect(text.stdout).toContain(`built     ${info.buildDate.slice(0, 10)} (${info.ageDays} days ago)`);
  });

  it('exits 1 with a message that says what to pass when --database is not an MMDB', async () => {
    const run = await ipmatch(['db', '--database', join(dir, 'missing.mmdb')]);
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toMatch(/no file at ".*missing\.mmdb"\. Pass the path/);
  });
});

describe('ipmatch --help and usage errors', slow, () => {
  it('prints the usage on stdout for --help, exit 0', async () => {
    const run = await ipmatch(['--help']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(
      'ipmatch check <phone> <ip> [--country GB] [--json] [--vonage | --identity-insights]',
    );
    expect(run.stdout).toContain('ipmatch db [--json]');
    expect(run.stdout).toContain('VONAGE_API_KEY and VONAGE_API_SECRET');
  });

  it('exits 1 with the message on stderr and nothing on stdout', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['chek', '+447400123456', '81.2.69.160'],
        /^ipmatch: unknown command "chek" \(did you mean check\?\)$/m,
      ],
      [['check', '+447400123456'], /^ipmatch: check needs an IP address after the phone number$/m],
      [
        ['check', '+447400123456', '81.2.69.160', '--jsn'],
        /^ipmatch: unknown option --jsn \(did you mean --json\?\)$/m,
      ],
      [
        ['check', '+447400123456', '81.2.69.160', '--country', 'UK'],
        /^ipmatch: --country: expected .* got "UK" \(the United Kingdom is GB\)$/m,
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => ipmatch(args)));
    runs.forEach((run, i) => {
      expect(run, cases[i]![0].join(' ')).toMatchObject({ code: 1, stdout: '' });
      expect(run.stderr).toMatch(cases[i]![1]);
      expect(run.stderr).toMatch(/^Run "ipmatch --help" for usage\.$/m);
      expect(run.stderr.trim().split('\n')).toHaveLength(2);
    });
  });

  // The parser's other messages, in-process: one spawn each would only repeat the exit-code path above.
  it('says what to type instead for every other mistake', () => {
    const mistake = (args: string[]) => () => parseCli(args);
    expect(mistake(['check', '07400', '123456', '81.2.69.160'])).toThrow(
      'check takes two arguments, <phone> <ip>, got 3: quote a phone number that has spaces',
    );
    expect(mistake(['check'])).toThrow('check needs a phone number and an IP address');
    expect(mistake(['db', '--vonage'])).toThrow('--vonage is not an option of "db"');
    expect(mistake(['db', 'now'])).toThrow('"db" takes no arguments, got "now"');
    expect(mistake(['check', 'a', 'b', '--json=yes'])).toThrow('--json takes no value');
    expect(mistake(['check', 'a', 'b', '--country'])).toThrow('--country needs a value, e.g. --country GB');
    expect(mistake(['db', '--database='])).toThrow('--database needs a value');
    expect(mistake(['-x'])).toThrow('no command given: expected "check" or "db"');
    expect(mistake(['check', 'a', 'b', '-x'])).toThrow(UsageError);
    // --help (or -h) wins over any mistake: it is what a lost user types next.
    expect(parseCli(['chek', '--jsn', '--help'])).toEqual({ kind: 'help' });
    expect(parseCli(['check', '-h'])).toEqual({ kind: 'help' });
    expect(parseCli(['check', '--country=gb', '07400 123456', '::ffff:81.2.69.160', '--json'])).toEqual({
      kind: 'check',
      phone: '07400 123456',
      ip: '::ffff:81.2.69.160',
      country: 'gb',
      json: true,
      vonage: false,
      identityInsights: false,
      sendsOtp: false,
    });
    expect(mistake(['check', 'a', 'b', '--vonage', '--identity-insights'])).toThrow('give one of them');
  });

  it('with no arguments, prints the usage on stderr and exits 1', async () => {
    const run = await ipmatch([]);
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toMatch(/^ipmatch: no command given\n/);
    expect(run.stderr).toContain('Usage:');
  });
});
