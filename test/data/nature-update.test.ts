import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpMatchConfigError, IpMatchDataError, updateDatabase } from 'ipmatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedUpdate, NatureUpdateResult } from '../../src/data/update.js';
import { FEED_NAMES, type FeedName, loadNatureTable } from '../../src/geodata/nature/index.js';
import { naturePathInDataDir } from '../../src/geodata/nature-files.js';
import { type FeedEntries, type FeedServer, startFeedServer } from '../helpers/feed-server.js';

const root = mkdtempSync(join(tmpdir(), 'ipmatch-nature-update-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `d${n++}`);

/** Public ranges the bundled snapshot does not list (documentation ranges are skipped): what a refresh brings is new. */
const FEEDS: Required<FeedEntries> = {
  aws: ['81.2.69.0/28', '81.2.69.32/28', '81.2.69.64/28', '2a0b:4340:a::/48'],
  gcp: ['81.2.69.192/27', '2a0b:4340:b::/48'],
  oracle: ['81.2.69.224/28'],
  azure: ['81.2.69.240/29'],
  digitalocean: ['81.2.70.0/28', '2a0b:4340:d::/48'],
  linode: ['81.2.70.16/28'],
  vultr: ['81.2.70.32/28'],
  'hosting-asn': ['81.2.70.48/28', '2a0b:4340:e::/48'],
  tor: ['81.2.71.1', '81.2.71.2', '2a0b:4340:7::1'],
  'icloud-relay': ['81.2.71.64/27', '2a0b:4340:1c::/48'],
  vpn: ['81.2.71.128/28', '81.2.71.144'],
};
/** An address each feed above lists, and nothing else does. */
const LISTED: Record<FeedName, string> = {
  aws: '81.2.69.70',
  gcp: '2a0b:4340:b::5',
  oracle: '81.2.69.230',
  azure: '81.2.69.241',
  digitalocean: '81.2.70.1',
  linode: '81.2.70.17',
  vultr: '81.2.70.33',
  'hosting-asn': '81.2.70.50',
  tor: '81.2.71.2',
  'icloud-relay': '81.2.71.70',
  vpn: '81.2.71.144',
};
/** An address of the bundled snapshot's Tor list (data/feeds-snapshot/tor-exits.txt). */
const BUNDLED_TOR = '185.220.101.33';

let feeds: FeedServer;
beforeAll(async () => {
  feeds = await startFeedServer(FEEDS);
});
afterAll(() => feeds.close());

const update = (dir: string, extra: { force?: boolean; feeds?: Partial<Record<FeedName, string>> } = {}) =>
  updateDatabase({
    dataset: 'ip-nature',
    dir,
    feeds: extra.feeds ?? feeds.urls,
    force: extra.force ?? false,
  });

const feed = (r: NatureUpdateResult, name: FeedName): FeedUpdate => r.feeds.find((f) => f.name === name)!;
const lookup = (dir: string, ip: string) => loadNatureTable(naturePathInDataDir(dir)).lookup(ip);

/** Republishes one feed for the length of `fn`, then restores it. */
async function withFeed<T>(
  name: FeedName,
  content: Parameters<FeedServer['publish']>[1],
  fn: () => Promise<T>,
) {
  feeds.publish(name, content);
  try {
    return await fn();
  } finally {
    feeds.publish(name, FEEDS[name]);
  }
}

describe("updateDatabase({ dataset: 'ip-nature' })", () => {
  it('installs ip-nature.bin beside the country data, in which every newly listed address is found', async () => {
    const dir = freshDir();
    const started = performance.now();
    const r = await update(dir);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(r).toMatchObject({
      dataset: 'ip-nature',
      status: 'updated',
      maxAgeDays: 7,
      previousBuiltAt: null,
    });
    expect(r.path).toBe(join(dir, 'ip-nature.bin'));
    expect(r.feeds.map((f) => [f.name, f.status])).toEqual(FEED_NAMES.map((name) => [name, 'updated']));
    expect(feed(r, 'aws')).toEqual({ name: 'aws', status: 'updated', ranges: 4, skipped: 0 });
    expect(lookup(dir, LISTED.aws)).toMatchObject({ kinds: ['hosting'], network: 'aws' });
    expect(lookup(dir, LISTED['hosting-asn'])).toMatchObject({ kinds: ['hosting'], network: 'hetzner' });
    expect(lookup(dir, LISTED.tor)).toMatchObject({ kinds: ['tor'], network: 'tor' });
    expect(lookup(dir, LISTED.vpn)).toMatchObject({ kinds: ['vpn'], network: 'vpn' });
    expect(lookup(dir, LISTED['icloud-relay'])).toMatchObject({ kinds: ['relay'], country: 'GB' });
    for (const name of FEED_NAMES) expect(lookup(dir, LISTED[name]), name).not.toBeNull();
    // The fresh lists replace the snapshot's: an address only the bundled Tor list had is gone.
    expect(lookup(dir, BUNDLED_TOR)).toBeNull();
    expect(readdirSync(dir).sort()).toEqual(['ip-nature.bin', 'ip-nature.json']);
    const manifest = JSON.parse(readFileSync(join(dir, 'ip-nature.json'), 'utf8'));
    expect(manifest).toMatchObject({ builtAt: r.builtAt, sha256: r.sha256 });
    expect(manifest.feeds.find((f: { name: string }) => f.name === 'aws').fetchedAt).toEqual(
      expect.any(String),
    );
  });

  it('keeps the previous ranges of a feed that loses more than half of them, unless forced', async () => {
    const dir = freshDir();
    await update(dir);
    // Two of four is half: kept. One of four is more than half lost: refused.
    const half = await withFeed('aws', ['81.2.69.0/28', '2a0b:4340:a::/48'], () => update(dir));
    expect(feed(half, 'aws')).toMatchObject({ status: 'updated', ranges: 2 });
    const before = await update(dir);
    const r = await withFeed('aws', ['81.2.69.0/28'], () => update(dir));
    expect(feed(r, 'aws')).toMatchObject({ status: 'refused_truncated', ranges: 4 });
    expect(feed(r, 'aws').error).toMatch(/1 ranges where the installed data has 4: .*refused as truncated/);
    expect(feed(r, 'tor').status).toBe('updated');
    expect(r.previousBuiltAt).toBe(before.builtAt);
    expect(lookup(dir, LISTED.aws)).toMatchObject({ network: 'aws' });

    const forced = await withFeed('aws', ['81.2.69.0/28'], () => update(dir, { force: true }));
    expect(feed(forced, 'aws')).toMatchObject({ status: 'updated', ranges: 1 });
    expect(lookup(dir, LISTED.aws)).toBeNull();
  });

  it('leaves the other feeds updated when one fails, and the failed one keeps the bundled ranges first', async () => {
    const dir = freshDir();
    const r = await withFeed(
      'tor',
      (res) => res.writeHead(503).end('down'),
      () => withFeed('aws', 'not json', () => update(dir)),
    );
    expect(feed(r, 'tor')).toMatchObject({ status: 'failed', error: expect.stringMatching(/503/) });
    expect(feed(r, 'aws')).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/publisher's format/),
    });
    expect(feed(r, 'tor').ranges).toBeGreaterThan(100);
    expect(lookup(dir, BUNDLED_TOR)).toMatchObject({ kinds: ['tor'] });
    expect(lookup(dir, LISTED.tor)).toBeNull();
    expect(lookup(dir, LISTED.gcp)).toMatchObject({ network: 'gcp' });
    expect(feed(r, 'gcp').status).toBe('updated');

    // Later, a failed feed keeps the installed file's ranges: the fresh Tor list, not the snapshot's.
    // The snapshot's 1 000-odd Tor ranges are installed now: three fresh ones replace them only when forced.
    const refused = await update(dir);
    expect(feed(refused, 'tor')).toMatchObject({ status: 'refused_truncated' });
    await update(dir, { force: true });
    const again = await withFeed(
      'tor',
      (res) => res.writeHead(500).end(),
      () => update(dir),
    );
    expect(feed(again, 'tor').status).toBe('failed');
    expect(lookup(dir, LISTED.tor)).toMatchObject({ kinds: ['tor'] });
    expect(lookup(dir, BUNDLED_TOR)).toBeNull();
  });

  it('counts and reports the ranges a feed could not read', async () => {
    const dir = freshDir();
    const r = await withFeed('vpn', ['81.2.71.144', 'not-an-ip', '10.0.0.0/4', '81.2.71.128/28'], () =>
      update(dir),
    );
    expect(feed(r, 'vpn')).toMatchObject({ status: 'updated', skipped: 2 });
  });

  it("keeps Azure's bundled ranges without a URL, and rejects, installing nothing, when no feed could be used", async () => {
    const dir = freshDir();
    const dead = Object.fromEntries(FEED_NAMES.map((name) => [name, `${feeds.server.url}/gone/${name}`]));
    const error = await update(dir, { feeds: dead }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpMatchDataError);
    expect(error).toMatchObject({ code: 'no_feed_usable' });
    expect((error as Error).message).toMatch(/aws: .*404/);
    expect(existsSync(naturePathInDataDir(dir))).toBe(false);

    const { azure: _, ...withoutAzure } = feeds.urls;
    const r = await update(dir, { feeds: withoutAzure });
    // Azure's Service Tags URL changes weekly: without one the feed is not fetched, and the snapshot's stay.
    expect(feed(r, 'azure')).toEqual({
      name: 'azure',
      status: 'kept',
      ranges: expect.any(Number),
      skipped: 0,
    });
    expect(feed(r, 'azure').ranges).toBeGreaterThan(1000);
  });

  it('holds each feed to the download limits: a feed that hangs fails alone, in bounded time', async () => {
    const dir = freshDir();
    const started = performance.now();
    const r = await withFeed(
      'tor',
      () => {}, // headers never come
      () => updateDatabase({ dataset: 'ip-nature', dir, feeds: feeds.urls, limits: { idleTimeoutMs: 300 } }),
    );
    expect(performance.now() - started).toBeLessThan(4_000);
    expect(feed(r, 'tor')).toMatchObject({ status: 'failed', error: expect.stringMatching(/tor/) });
    expect(feed(r, 'aws').status).toBe('updated');
  });

  it('never shows a token of a mirror URL, in the result or the manifest', async () => {
    const dir = freshDir();
    const secret = 'tok_Do_Not_Print_7c6b5a';
    const r = await update(dir, { feeds: { ...feeds.urls, tor: `${feeds.urls.tor}?token=${secret}` } });
    expect(feed(r, 'tor').status).toBe('failed'); // the route is /tor, not /tor?token=…: a 404
    expect(JSON.stringify(r)).not.toContain(secret);
    expect(readFileSync(join(dir, 'ip-nature.json'), 'utf8')).not.toContain(secret);
    expect(feed(r, 'tor').error).toContain('token=REDACTED');
  });

  it('refuses feed URLs that are not https (or http to loopback), and names an unknown feed', async () => {
    const bad = [
      { feeds: { aws: 'http://mirror.example.com/ip-ranges.json' } },
      { feeds: { awz: 'https://mirror.example.com/ip-ranges.json' } },
      { dataset: 'ip-nature', url: 'https://mirror.example.com/x.mmdb', sha256: 'a'.repeat(64) },
      { dataset: 'country', feeds: { tor: 'https://mirror.example.com/tor' } },
    ];
    const messages = await Promise.all(
      bad.map((o) =>
        updateDatabase({ dir: freshDir(), ...o } as never).then(
          () => '',
          (e: unknown) => {
            expect(e).toBeInstanceOf(IpMatchConfigError);
            return (e as Error).message;
          },
        ),
      ),
    );
    expect(messages[0]).toMatch(/feeds\.aws: expected an https URL/);
    expect(messages[1]).toMatch(/awz.*did you mean.*aws/);
    expect(messages[2]).toMatch(/with dataset 'ip-nature' point feeds at mirrors/);
    expect(messages[3]).toMatch(/feeds: they are the IP-nature data's/);
  });
});
