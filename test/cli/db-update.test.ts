import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMmdb } from '../../src/geodata/mmdb.js';
import { type Corruption, corruptMmdb } from '../fixtures/corrupt-mmdb.js';
import { countryDb, PROBE_IP, sha256, sha256Line } from '../fixtures/geo-data.js';
import { type DataServer, startDataServer } from '../helpers/data-server.js';

// Run as a user runs it: a separate process, through tsx so that no build is needed.
const root = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'ipmatch-cli-db-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const GB = countryDb('GB', 2);
const FR = countryDb('FR', 1);
const LICENCE = 'lic_Do_Not_Print_9f8e7d';
const TOKEN = 'tok_Do_Not_Print_1a2b3c';
/** The parent's environment without any credential a developer might have set. */
const baseEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^(VONAGE_|MAXMIND_|IPINFO_|IPMATCH_DATA_DIR)/.test(k)),
);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: root,
    env: { ...baseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

const ipmatch = (args: string[], env?: Record<string, string>) => start(args, env).done;

let server: DataServer;
beforeAll(async () => {
  server = await startDataServer({
    '/gb.mmdb': GB,
    '/gb.mmdb.sha256': sha256Line(GB),
    '/fr.mmdb': FR,
    '/fr.mmdb.sha256': sha256Line(FR),
  });
});
afterAll(() => server.close());

const slow = { timeout: 120_000 };

describe('ipmatch db update', slow, () => {
  it('installs with --json (one object on stdout, nothing on stderr), then answers up_to_date', async () => {
    const dir = join(work, 'json');
    const args = [
      'db',
      'update',
      '--url',
      `${server.url}/gb.mmdb`,
      '--sha256-url',
      `${server.url}/gb.mmdb.sha256`,
    ];
    const first = await ipmatch([...args, '--dir', dir, '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      status: 'updated',
      path: join(dir, 'current.mmdb'),
      source: 'url',
      sha256: sha256(GB),
      buildDate: expect.any(String),
      previousBuildDate: null,
    });
    const again = await ipmatch([...args, '--json'], { IPMATCH_DATA_DIR: dir });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'up_to_date', sha256: sha256(GB) });

    const text = await ipmatch([...args, '--dir', dir]);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toMatch(/^up to date: url data built \d{4}-\d\d-\d\d in .*current\.mmdb\n$/);
  });

  it('exits 1 on a usage mistake, saying what to type', async () => {
    const [noSum, typo, bad] = await Promise.all([
      ipmatch(['db', 'update', '--url', `${server.url}/gb.mmdb`, '--dir', join(work, 'usage')]),
      ipmatch(['db', 'update', '--sourc', 'user-country']),
      ipmatch(['db', 'update', '--source', 'geolite']),
    ]);
    expect(noSum.code).toBe(1);
    expect(noSum.stderr).toMatch(/--sha256-url/);
    expect(typo).toMatchObject({ code: 1, stdout: '' });
    expect(typo.stderr).toMatch(/unknown option --sourc \(did you mean --source\?\)/);
    expect(bad.stderr).toMatch(/did you mean geolite2\?/);
    expect(existsSync(join(work, 'usage'))).toBe(false);
  });

  it('exits 2 on a failed update, keeps the data, and never prints a credential', async () => {
    const dir = join(work, 'secrets');
    await ipmatch(['db', 'update', '--url', `${server.url}/gb.mmdb`, '--sha256', sha256(GB), '--dir', dir]);
    const env = { MAXMIND_ACCOUNT_ID: '42', MAXMIND_LICENSE_KEY: LICENCE, IPINFO_TOKEN: TOKEN };
    const runs = await Promise.all([
      // MaxMind refuses the key; IPinfo's file is missing; a token put in a --url by hand is redacted.
      ipmatch(
        [
          'db',
          'update',
          '--source',
          'geolite2',
          '--url',
          `${server.url}/nope.tar.gz`,
          '--dir',
          dir,
          '--json',
        ],
        env,
      ),
      ipmatch(
        ['db', 'update', '--source', 'ipinfo-lite', '--url', `${server.url}/nope.mmdb`, '--dir', dir],
        env,
      ),
      ipmatch([
        'db',
        'update',
        '--url',
        `${server.url}/nope.mmdb?token=${TOKEN}`,
        '--sha256',
        sha256(FR),
        '--dir',
        dir,
      ]),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/db update failed \(http_status\)/);
      expect(run.stdout + run.stderr).not.toContain(LICENCE);
      expect(run.stdout + run.stderr).not.toContain(TOKEN);
    }
    expect(runs[2]!.stderr).toContain('token=REDACTED');
    expect(JSON.parse(runs[0]!.stdout)).toMatchObject({
      status: 'failed',
      sha256: sha256(GB),
      error: { code: 'http_status', message: expect.stringContaining('HTTP 404') },
    });
    expect(readFileSync(join(dir, 'current.mmdb'))).toEqual(Buffer.from(GB));
    expect(server.requests.some((r) => r.headers.authorization?.includes(TOKEN))).toBe(true); // sent, as a header
  });

  it('survives being killed mid-download: readers only ever see a whole file, and the next run succeeds', async () => {
    const dir = join(work, 'killed');
    await ipmatch(['db', 'update', '--url', `${server.url}/gb.mmdb`, '--sha256', sha256(GB), '--dir', dir]);
    let sent = false;
    server.routes.set('/stall.mmdb', (res) => {
      res.writeHead(200, { 'content-length': FR.length });
      res.write(Buffer.from(FR).subarray(0, Math.floor(FR.length / 2)), () => {
        sent = true;
      });
      // …and the rest never comes: the updater is killed while it waits.
    });
    // A reader that keeps opening the data dir's file the whole time, as a reloading server does.
    const seen = new Set<string>();
    let reading = true;
    const reader = (async () => {
      while (reading) {
        seen.add(openMmdb(readFileSync(join(dir, 'current.mmdb')), 'current').country(PROBE_IP) ?? 'none');
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const updater = start([
      'db',
      'update',
      '--url',
      `${server.url}/stall.mmdb`,
      '--sha256',
      sha256(FR),
      '--dir',
      dir,
    ]);
    while (!sent) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    updater.child.kill('SIGKILL');
    const killed = await updater.done;
    expect(killed.code).toBeNull();
    const left = readdirSync(dir);
    expect(left).toContain('update.lock'); // the dead holder's
    expect(left.some((name) => name.startsWith('.ipmatch-download-'))).toBe(true);

    const next = await ipmatch([
      'db',
      'update',
      '--url',
      `${server.url}/fr.mmdb`,
      '--sha256',
      sha256(FR),
      '--dir',
      dir,
      '--json',
    ]);
    reading = false;
    await reader;
    expect(next.code).toBe(0);
    expect(JSON.parse(next.stdout)).toMatchObject({ status: 'updated', sha256: sha256(FR) });
    expect(readdirSync(dir).sort()).toEqual(['current.mmdb', 'manifest.json', 'previous.mmdb']);
    expect([...seen].every((country) => country === 'GB' || country === 'FR')).toBe(true);
  });

  it('prints progress on stderr for a download over a second, and rolls back', async () => {
    const dir = join(work, 'progress');
    await ipmatch(['db', 'update', '--url', `${server.url}/gb.mmdb`, '--sha256', sha256(GB), '--dir', dir]);
    server.routes.set('/slow.mmdb', (res) => {
      res.writeHead(200, { 'content-length': FR.length });
      const bytes = Buffer.from(FR);
      const step = Math.ceil(bytes.length / 6);
      let at = 0;
      const timer = setInterval(() => {
        res.write(bytes.subarray(at, at + step));
        at += step;
        if (at >= bytes.length) {
          clearInterval(timer);
          res.end();
        }
      }, 350);
    });
    const slowRun = await ipmatch([
      'db',
      'update',
      '--url',
      `${server.url}/slow.mmdb`,
      '--sha256',
      sha256(FR),
      '--dir',
      dir,
    ]);
    expect(slowRun.code).toBe(0);
    expect(slowRun.stderr).toMatch(/^ipmatch: downloading: \d+\.\d MB of \d+\.\d MB \(\d+%\)$/m);

    const back = await ipmatch(['db', 'rollback', '--dir', dir, '--json']);
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ status: 'rolled_back', sha256: sha256(GB) });
    expect(readFileSync(join(dir, 'current.mmdb'))).toEqual(Buffer.from(GB));
    expect(readFileSync(join(dir, 'previous.mmdb'))).toEqual(Buffer.from(FR));

    const info = await ipmatch(['db', '--json'], { IPMATCH_DATA_DIR: dir });
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({
      origin: 'data-dir',
      reason: expect.stringMatching(/newer than the bundled data/),
      dataDir: dir,
      source: join(dir, 'current.mmdb'),
      manifest: { sha256: sha256(GB), previous: { sha256: sha256(FR) } },
    });
  });
});

describe('ipmatch db update, bounded', slow, () => {
  it('--timeout S cuts a download that is still running after S seconds, with JSON and exit 2', async () => {
    server.routes.set('/crawl.mmdb', (res) => {
      res.writeHead(200, { 'content-length': FR.length });
      const bytes = Buffer.from(FR);
      let at = 0;
      // Fast enough for the minimum throughput (2 KB a 100 ms), too slow to finish in a second.
      const timer = setInterval(() => {
        if (res.destroyed || at >= bytes.length) return clearInterval(timer);
        res.write(bytes.subarray(at, at + 200));
        at += 200;
      }, 100);
    });
    const started = Date.now();
    const url = `${server.url}/crawl.mmdb`;
    const run = await ipmatch([
      'db',
      'update',
      '--url',
      url,
      '--sha256',
      sha256(FR),
      '--dir',
      join(work, 'timeout'),
      '--timeout',
      '1',
      '--json',
    ]);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({
      status: 'failed',
      error: {
        code: 'timeout',
        message: expect.stringContaining('not complete within 1 s (raise it with --timeout S'),
      },
    });
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it.each(['0', 'abc', '1.5', '-3', '86401'])('--timeout %s is a usage error (exit 1)', async (value) => {
    const run = await ipmatch([
      'db',
      'update',
      '--url',
      `${server.url}/gb.mmdb`,
      '--sha256',
      sha256(GB),
      '--timeout',
      value,
    ]);
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toMatch(/--timeout: expected whole seconds from 1 to 86400/);
  });

  it('refuses a corrupt MMDB (pointer loop, cycle, tree out of the file, bad metadata) with JSON and exit 2', async () => {
    const kinds: Corruption[] = ['self_pointer', 'pointer_cycle', 'tree_outside_file', 'metadata_loop'];
    const runs = await Promise.all(
      kinds.map((kind) => {
        const bytes = corruptMmdb(kind);
        server.routes.set(`/${kind}.mmdb`, bytes);
        const args = ['db', 'update', '--url', `${server.url}/${kind}.mmdb`, '--sha256', sha256(bytes)];
        return ipmatch([...args, '--dir', join(work, `corrupt-${kind}`), '--json']);
      }),
    );
    for (const [i, run] of runs.entries()) {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^ipmatch: db update failed \(invalid_database\): /);
      expect(run.stderr).not.toMatch(/RangeError|call stack|\n\s+at /);
      expect(JSON.parse(run.stdout)).toMatchObject({ status: 'failed', error: { code: 'invalid_database' } });
      expect(existsSync(join(work, `corrupt-${kinds[i]}`, 'current.mmdb'))).toBe(false);
    }
  });
});
