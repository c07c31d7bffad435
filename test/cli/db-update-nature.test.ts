import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEED_NAMES } from '../../src/geodata/nature/types.js';
import { countryDb, sha256Line } from '../fixtures/geo-data.js';
import { type ConnectProxy, startConnectProxy } from '../helpers/connect-proxy.js';
import { type DataServer, startDataServer } from '../helpers/data-server.js';
import { type FeedServer, feedDocument, startFeedServer } from '../helpers/feed-server.js';

// Run as a user runs it: a separate process, through tsx so that no build is needed.
const root = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'ipmatch-cli-nature-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const baseEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !/^(VONAGE_|MAXMIND_|IPINFO_|IPMATCH_DATA_DIR|https?_proxy|no_proxy)/i.test(k),
  ),
);
const tls = join(root, 'test/fixtures/tls');
/** A reserved .test name that resolves nowhere but at the test's CONNECT proxy, which sends it to loopback. */
const HOST = 'ipmatch-data.test';

function ipmatch(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: root,
    env: { ...baseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const GB = countryDb('GB', 2);
let feeds: FeedServer;
let country: DataServer;
beforeAll(async () => {
  feeds = await startFeedServer({
    aws: ['81.2.69.0/28', '2a0b:4340:a::/48'],
    gcp: ['81.2.69.32/28'],
    tor: ['81.2.71.2'],
    'icloud-relay': ['81.2.71.64/27'],
    vpn: ['81.2.71.144'],
  });
  country = await startDataServer({ '/gb.mmdb': GB, '/gb.mmdb.sha256': sha256Line(GB) });
});
afterAll(() => Promise.all([feeds.close(), country.close()]));

/** `--feed NAME=URL` for every feed, so that nothing leaves loopback; the ones not published answer 404. */
const feedFlags = () => FEED_NAMES.flatMap((name) => ['--feed', `${name}=${feeds.urls[name]}`]);

describe('ipmatch db update --dataset ip-nature', { timeout: 120_000 }, () => {
  it('installs the feeds given with --feed, warns of the ones that failed, and ipmatch db shows both datasets', async () => {
    const dir = join(work, 'json');
    const run = await ipmatch([
      'db',
      'update',
      '--dataset',
      'ip-nature',
      ...feedFlags(),
      '--dir',
      dir,
      '--json',
    ]);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({ dataset: 'ip-nature', status: 'updated', path: join(dir, 'ip-nature.bin') });
    const status = Object.fromEntries(
      out.feeds.map((f: { name: string; status: string }) => [f.name, f.status]),
    );
    expect(status).toMatchObject({ aws: 'updated', gcp: 'updated', tor: 'updated', vpn: 'updated' });
    // A feed the mirror does not have fails and keeps the bundled ranges, named on stderr.
    expect(status.oracle).toBe('failed');
    expect(run.stderr).toMatch(/^ipmatch: feed oracle failed, its previous ranges kept: .*404/m);
    expect(run.stderr).not.toMatch(/feed aws/);

    const again = await ipmatch(['db', 'update', '--dataset', 'ip-nature', ...feedFlags(), '--dir', dir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      /^updated: IP-nature data built \d{4}-\d\d-\d\d \(was \d{4}-\d\d-\d\d\) in .*ip-nature\.bin$/m,
    );
    expect(again.stdout).toMatch(/^ {2}aws +updated: 2 ranges$/m);
    expect(again.stdout).toMatch(/^ {2}oracle +failed, kept: \d+ ranges \(.*404\)$/m);

    const info = await ipmatch(['db', '--json'], { IPMATCH_DATA_DIR: dir });
    expect(info.code).toBe(0);
    const db = JSON.parse(info.stdout);
    expect(db.schema).toBeDefined();
    expect(db.ipNature).toMatchObject({
      origin: 'data dir',
      path: join(dir, 'ip-nature.bin'),
      maxAgeDays: 7,
    });
    expect(db.ipNature.feeds.find((f: { name: string }) => f.name === 'aws')).toMatchObject({
      ranges: 2,
      ageDays: 0,
      fetchedAt: expect.any(String),
    });
    const text = await ipmatch(['db'], { IPMATCH_DATA_DIR: dir });
    expect(text.stdout).toMatch(/^source {4}/m);
    expect(text.stdout).toMatch(/^ip-nature {2}data dir: .*ip-nature\.bin$/m);
    expect(text.stdout).toMatch(/^ {2}aws +hosting +2 ranges {2}0 days old$/m);
    expect(text.stdout).toMatch(/^ {2}hosting-asn +hosting +\d+ ranges {2}\d+ days old$/m);
  });

  it('updates both datasets without --dataset when --feed is given beside --url', async () => {
    const dir = join(work, 'both');
    const run = await ipmatch([
      'db',
      'update',
      '--url',
      `${country.url}/gb.mmdb`,
      '--sha256-url',
      `${country.url}/gb.mmdb.sha256`,
      ...feedFlags(),
      '--dir',
      dir,
      '--json',
    ]);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({ status: 'updated', path: join(dir, 'current.mmdb') });
    expect(out.ipNature).toMatchObject({ dataset: 'ip-nature', status: 'updated' });
  });

  it('reads an https mirror through HTTPS_PROXY (CONNECT), as the country data does, and loopback feeds straight', async () => {
    const mirror = await startDataServer(
      { '/torbulkexitlist': feedDocument('tor', ['81.2.71.9']) },
      { tls: { key: readFileSync(join(tls, `${HOST}.key`)), cert: readFileSync(join(tls, `${HOST}.crt`)) } },
    );
    const proxy: ConnectProxy = await startConnectProxy({ resolve: (h) => (h === HOST ? '127.0.0.1' : h) });
    try {
      const tor = `https://${HOST}:${new URL(mirror.url).port}/torbulkexitlist`;
      const flags = FEED_NAMES.flatMap((name) => [
        '--feed',
        `${name}=${name === 'tor' ? tor : feeds.urls[name]}`,
      ]);
      const args = [
        'db',
        'update',
        '--dataset',
        'ip-nature',
        ...flags,
        '--dir',
        join(work, 'proxy'),
        '--json',
      ];
      const run = await ipmatch(args, {
        HTTPS_PROXY: proxy.url,
        NODE_EXTRA_CA_CERTS: join(tls, `${HOST}.crt`),
      });
      expect(run.code).toBe(0);
      const out = JSON.parse(run.stdout);
      expect(out.feeds.find((f: { name: string }) => f.name === 'tor')).toMatchObject({
        status: 'updated',
        ranges: 1,
      });
      expect(proxy.connects.map((c) => c.target)).toEqual([`${HOST}:${new URL(mirror.url).port}`]);
      expect(mirror.count('/torbulkexitlist')).toBe(1);
    } finally {
      await Promise.all([mirror.close(), proxy.close()]);
    }
  });

  it('exits 2 when no feed could be used, with nothing installed', async () => {
    const dead = FEED_NAMES.flatMap((name) => ['--feed', `${name}=${feeds.server.url}/gone/${name}`]);
    const run = await ipmatch([
      'db',
      'update',
      '--dataset',
      'ip-nature',
      ...dead,
      '--dir',
      join(work, 'dead'),
      '--json',
    ]);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'failed', error: { code: 'no_feed_usable' } });
    expect(run.stderr).toMatch(/IP-nature data failed \(no_feed_usable\): .*aws: .*404/);
  });

  it("holds --feed to --url's rules and names an unknown feed or dataset", async () => {
    const dir = ['--dir', join(work, 'usage')];
    const cases = [
      [['--feed', 'aws=http://mirror.example.com/ip-ranges.json'], /--feed aws: expected an https URL/],
      [
        ['--feed', 'awz=https://mirror.example.com/ip-ranges.json'],
        /unknown feed "awz" \(did you mean aws\?\)/,
      ],
      [['--feed', 'tor'], /--feed: expected NAME=URL/],
      [['--feed', 'tor=https://a.example/t', '--feed', 'tor=https://b.example/t'], /tor is given twice/],
      [['--dataset', 'ip-natur'], /unknown dataset "ip-natur" \(did you mean ip-nature\?\)/],
      [['--dataset', 'ip-nature', '--url', 'https://a.example/x.mmdb'], /--url is for the country data/],
      [['--dataset', 'country', '--feed', 'tor=https://a.example/t'], /drop --dataset country/],
    ] as const;
    const runs = await Promise.all(cases.map(([args]) => ipmatch(['db', 'update', ...args, ...dir])));
    runs.forEach((run, i) => {
      expect(run.code, cases[i]![0].join(' ')).toBe(1);
      expect(run.stderr).toMatch(cases[i]![1]);
      expect(run.stdout).toBe('');
    });
  });
});
