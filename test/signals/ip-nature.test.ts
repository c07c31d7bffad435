import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { createIpMatch, type IpMatchDecision, type IpMatchOptions, localProvider } from 'ipmatch';
import { ipMatch } from 'ipmatch/express';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { compileNature, type FeedInput, writeNatureTable } from '../../src/geodata/nature/index.js';
import { memoryLogger } from '../helpers/logger.js';

// Addresses of the bundled snapshot (data/feeds-snapshot/), with what the bundled GeoIP data says of them.
const AWS_GB = '3.2.48.1'; // aws-ipv4.txt; GeoIP GB
const TOR_US = '204.8.96.141'; // tor-exits.txt; GeoIP US
const TOR_V6 = '2620:7:6003::141'; // tor-exits.txt
const MULLVAD_HOSTED = '37.19.200.130'; // vpn-mullvad.txt, in a hosting ASN's space; GeoIP US
const RELAY_AU = '104.28.137.110'; // icloud-relay.csv: AU; GeoIP US (Cloudflare)
const CONSUMER_GB = '81.2.69.160';

const GB_PHONE = '+447400123456';
const US_PHONE = '+12025550123';
const AU_PHONE = '+61412345678';

/** A signup app as a user writes it, returning the decision it made. */
function app(options: IpMatchOptions = {}) {
  const a = express();
  a.set('trust proxy', 'loopback');
  a.use(express.json());
  a.post('/signup', ipMatch({ ...options, phone: 'phone' }), (req, res) => {
    res.status(201).json({ decision: req.ipMatch });
  });
  return a;
}

async function signup(a: express.Express, phone: string, ip: string) {
  const res = await request(a).post('/signup').set('x-forwarded-for', ip).send({ phone });
  return { status: res.status, body: res.body as { decision: IpMatchDecision; error?: string } };
}

const v4 = (ip: string) => BigInt(ip.split('.').reduce((n, p) => n * 256 + Number(p), 0));
const range = (first: string, last: string, extra: { network?: string; country?: string } = {}) => ({
  family: 4 as const,
  first: v4(first),
  last: v4(last),
  ...extra,
});

/** A table of our own: a relay range inside a hosting ASN's range, as hosting lists built from ASNs have them. */
function ownTable(): Uint8Array {
  const feeds: FeedInput[] = [
    { name: 'hosting-asn', version: 't', ranges: [range('81.2.69.0', '81.2.69.255', { network: 'cdn' })] },
    { name: 'icloud-relay', version: 't', ranges: [range('81.2.69.160', '81.2.69.175', { country: 'FR' })] },
  ];
  return writeNatureTable(compileNature(feeds), new Date().toISOString());
}

describe('the ip-nature signals on a real Express app, bundled data', () => {
  const signupApp = app();

  it('flags an AWS address as hosting and names the network, while the countries still match', async () => {
    const { status, body } = await signup(signupApp, GB_PHONE, AWS_GB);
    expect(status).toBe(201);
    expect(body.decision).toMatchObject({
      reason: 'country_match',
      action: 'flag',
      signals: ['hosting'],
      ip: { address: AWS_GB, country: 'GB', network: 'aws' },
    });
  });

  it('flags a Tor exit, IPv4 and IPv6', async () => {
    for (const ip of [TOR_US, TOR_V6]) {
      const { body } = await signup(signupApp, US_PHONE, ip);
      expect(body.decision).toMatchObject({ signals: ['tor_exit'], action: 'flag', ip: { network: 'tor' } });
    }
  });

  it('gives a Mullvad server in a datacenter both vpn and hosting, named for Mullvad', async () => {
    const { body } = await signup(signupApp, US_PHONE, MULLVAD_HOSTED);
    expect(body.decision.signals).toEqual(['vpn', 'hosting']);
    expect(body.decision.ip).toEqual({ address: MULLVAD_HOSTED, country: 'US', network: 'mullvad' });
  });

  it("reads a Private Relay egress in Apple's country, not GeoIP's, and lets it pass", async () => {
    expect(localProvider().ipCountry(RELAY_AU)).toBe('US');
    const { status, body } = await signup(signupApp, AU_PHONE, RELAY_AU);
    expect(status).toBe(201);
    expect(body.decision).toMatchObject({
      reason: 'country_match',
      action: 'allow',
      signals: ['private_relay'],
      ip: { address: RELAY_AU, country: 'AU', network: 'icloud-private-relay' },
    });
  });

  it('gives a consumer address no signal and network null; a private one too', async () => {
    const consumer = await signup(signupApp, GB_PHONE, CONSUMER_GB);
    expect(consumer.body.decision).toMatchObject({ signals: [], action: 'allow' });
    expect(consumer.body.decision.ip).toEqual({ address: CONSUMER_GB, country: 'GB', network: null });
    const lan = await signup(signupApp, GB_PHONE, '10.1.2.3');
    expect(lan.body.decision.ip).toEqual({ address: '10.1.2.3', country: null, network: null });
  });

  it("blocks a Tor exit with a 403 naming tor_exit under policy { tor_exit: 'block' }", async () => {
    const strict = app({ policy: { tor_exit: 'block' } });
    const res = await request(strict)
      .post('/signup')
      .set('x-forwarded-for', TOR_US)
      .send({ phone: US_PHONE });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('tor_exit');
    expect(res.body.message).toMatch(/Tor/);
    // Other nature signals keep their default.
    expect((await signup(strict, GB_PHONE, AWS_GB)).status).toBe(201);
  });
});

describe('the ip-nature data given to localProvider', () => {
  it('never reads a relay user as hosting, even inside a hosting range, and takes the relay country', async () => {
    const provider = localProvider({ ipNature: { database: ownTable() } });
    const { body } = await signup(app({ provider }), '+33612345678', CONSUMER_GB);
    expect(body.decision).toMatchObject({
      signals: ['private_relay'],
      reason: 'country_match',
      ip: { country: 'FR', network: 'icloud-private-relay' },
    });
    const next = await signup(app({ provider }), GB_PHONE, '81.2.69.200');
    expect(next.body.decision).toMatchObject({ signals: ['hosting'], ip: { country: 'GB', network: 'cdn' } });
  });

  it("reads the data dir's ip-nature.bin when it is newer than the bundled snapshot", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipmatch-nature-'));
    writeFileSync(join(dir, 'ip-nature.bin'), ownTable());
    vi.stubEnv('IPMATCH_DATA_DIR', dir);
    try {
      const core = createIpMatch({ provider: localProvider({ reload: false }) });
      await core.ready();
      expect(await core.check({ phone: GB_PHONE, ip: '81.2.69.200' })).toMatchObject({
        signals: ['hosting'],
        ip: { network: 'cdn' },
      });
      await core.close();
    } finally {
      vi.unstubAllEnvs();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("hot-reloads the data dir's ip-nature.bin once db update installs it, and never swaps in a broken one", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipmatch-nature-'));
    vi.stubEnv('IPMATCH_DATA_DIR', dir);
    const logger = memoryLogger();
    const core = createIpMatch({ provider: localProvider({ reload: { intervalMs: 100 } }), logger });
    const cdn = () => core.check({ phone: GB_PHONE, ip: '81.2.69.200' });
    /** Checks until `done`, within two seconds (twenty reload intervals). */
    const until = async (done: (d: IpMatchDecision) => boolean) => {
      for (let i = 0; i < 40 && !done(await cdn()); i++) await new Promise((r) => setTimeout(r, 50));
      return cdn();
    };
    try {
      await core.ready();
      expect((await cdn()).signals).toEqual([]);
      // As the updater installs it: a temporary file renamed over the target.
      writeFileSync(join(dir, 'tmp.bin'), ownTable());
      renameSync(join(dir, 'tmp.bin'), join(dir, 'ip-nature.bin'));
      expect(await until((d) => d.signals.length > 0)).toMatchObject({
        signals: ['hosting'],
        ip: { network: 'cdn' },
      });
      writeFileSync(join(dir, 'ip-nature.bin'), 'not a table');
      await until(() => logger.lines.length > 0);
      expect(logger.lines.map((l) => (l.meta as { code?: string }).code)).toEqual([
        'IPMATCH_DATA_RELOAD_FAILED',
      ]);
      expect((await cdn()).signals).toEqual(['hosting']);
    } finally {
      await core.close();
      vi.unstubAllEnvs();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns the four signals off with ipNature: false', async () => {
    const { body } = await signup(app({ provider: localProvider({ ipNature: false }) }), GB_PHONE, AWS_GB);
    expect(body.decision).toMatchObject({ signals: [], action: 'allow', ip: { network: null } });
  });

  it('reads the file at ready(): a check after it needs the file no more', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipmatch-nature-'));
    const path = join(dir, 'own.bin');
    writeFileSync(path, ownTable());
    const core = createIpMatch({ provider: localProvider({ ipNature: { database: path } }) });
    try {
      await core.ready();
      rmSync(path);
      expect(await core.check({ phone: GB_PHONE, ip: '81.2.69.200' })).toMatchObject({
        signals: ['hosting'],
        ip: { network: 'cdn' },
      });
    } finally {
      await core.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads the table at ready(), and a broken file is a clear error there', async () => {
    const broken = createIpMatch({
      provider: localProvider({ ipNature: { database: new Uint8Array([1, 2, 3, 4]) } }),
      logger: memoryLogger(),
    });
    await expect(broken.ready()).rejects.toThrow(/not a valid IP-nature file/);
    await broken.close();
    const logger = memoryLogger();
    const missing = createIpMatch({
      provider: localProvider({ ipNature: { database: '/nonexistent/ip-nature.bin' } }),
      logger,
    });
    await expect(missing.ready()).rejects.toThrow(/ENOENT/);
    // Checks go on without the signals, and say so once.
    for (let i = 0; i < 2; i++) {
      const d = await missing.check({ phone: GB_PHONE, ip: AWS_GB });
      expect(d).toMatchObject({ signals: [], ip: { network: null } });
    }
    expect(logger.lines.map((l) => (l.meta as { code?: string }).code)).toEqual([
      'IPMATCH_IP_NATURE_UNAVAILABLE',
    ]);
    await missing.close();
  });

  it('rejects a malformed ipNature option at construction', () => {
    expect(() => localProvider({ ipNature: { database: '' } } as never)).toThrow(/ipNature/);
    expect(() => localProvider({ ipNature: { maxAgeDays: -1 } })).toThrow(/ipNature/);
    expect(() => localProvider({ ipNature: true } as never)).toThrow(/ipNature/);
  });

  it('warns once when given data is older than maxAgeDays', async () => {
    const old = writeNatureTable(compileNature([]), '2020-01-01T00:00:00.000Z');
    const logger = memoryLogger({ stale: true });
    const core = createIpMatch({
      provider: localProvider({ ipNature: { database: old, maxAgeDays: 3 } }),
      logger,
    });
    await core.ready();
    await core.check({ phone: GB_PHONE, ip: AWS_GB });
    const stale = logger.lines.filter((l) => (l.meta as { dataset?: string }).dataset === 'ip-nature');
    expect(stale).toHaveLength(1);
    expect(stale[0]!.msg).toMatch(/IP-nature data .* built \d+ days ago, older than 3 days/);
    await core.close();
  });
});
