import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIpMatch, IpMatchConfigError, localProvider, updateDatabase } from 'ipmatch';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { startAutoUpdate } from '../../src/providers/auto-update.js';
import { localProvider as bareLocalProvider } from '../../src/providers/local.js';
import { countryDb, PROBE_IP, sha256Line, shrunkDb } from '../fixtures/geo-data.js';
import { writeMmdb } from '../fixtures/mmdb-writer.js';
import { startDataServer } from '../helpers/data-server.js';
import { memoryLogger } from '../helpers/logger.js';

const root = mkdtempSync(join(tmpdir(), 'ipmatch-reload-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** Replaces a file as the updater does: write beside it, then rename over it. */
function replace(path: string, bytes: Uint8Array | string): void {
  const tmp = `${path}.${n++}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

function fileWith(bytes: Uint8Array): string {
  const dir = join(root, `f${n++}`);
  mkdirSync(dir);
  const path = join(dir, 'geo.mmdb');
  writeFileSync(path, bytes);
  return path;
}

const GB_PHONE = '+447400123456';
const noCountries = writeMmdb({
  ipVersion: 6,
  databaseType: 'user-country',
  networks: { '1.0.0.0/8': { asn: 13335 } },
});

const cores: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(cores.splice(0).map((c) => c.close()));
});

function coreOn(provider: ReturnType<typeof localProvider>) {
  const logger = memoryLogger();
  const core = createIpMatch({ provider, logger });
  cores.push(core);
  const country = async () => (await core.check({ phone: GB_PHONE, ip: PROBE_IP })).ip.country;
  return { core, logger, country };
}

describe('localProvider reload', () => {
  it('swaps in a replaced file on reload(), and decisions follow it', async () => {
    const path = fileWith(countryDb('GB', 3));
    const provider = localProvider({ database: path, reload: { intervalMs: 60_000 } });
    const { country, logger } = coreOn(provider);
    expect(await country()).toBe('GB');
    expect(await provider.reload()).toBe(false); // nothing changed
    replace(path, countryDb('FR', 2));
    expect(await provider.reload()).toBe(true);
    expect(await country()).toBe('FR'); // the IP cache was cleared on the swap
    expect(provider.info()).toMatchObject({ origin: 'path', reload: { path, intervalMs: 60_000 } });
    // A rollback is a step back in build date, and is followed.
    replace(path, countryDb('GB', 3));
    expect(await provider.reload()).toBe(true);
    expect(await country()).toBe('GB');
    expect(logger.lines).toEqual([]);
  });

  it.each([
    ['cut short', Buffer.from(countryDb('FR', 1)).subarray(0, countryDb('FR', 1).length / 2)],
    ['not an MMDB', '<html>502 Bad Gateway</html>'],
    ['without countries', noCountries],
    ['missing most networks', shrunkDb('FR')],
    ['built in the future', countryDb('FR', -5)],
  ])('never swaps in a file %s, and warns once for it', async (_, broken) => {
    const path = fileWith(countryDb('GB', 3));
    const provider = localProvider({ database: path, reload: { intervalMs: 60_000 } });
    const { country, logger } = coreOn(provider);
    expect(await country()).toBe('GB');
    replace(path, broken);
    expect(await provider.reload()).toBe(false);
    expect(await provider.reload()).toBe(false);
    expect(await country()).toBe('GB');
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({
      level: 'warn',
      msg: expect.stringMatching(/was not loaded, the previous data stays in use/),
      meta: { code: 'IPMATCH_DATA_RELOAD_FAILED', path },
    });
    replace(path, countryDb('FR', 2)); // and a good file after a bad one is taken
    expect(await provider.reload()).toBe(true);
    expect(await country()).toBe('FR');
  });

  it('polls on its own every intervalMs, and stops at close()', async () => {
    const path = fileWith(countryDb('GB', 3));
    const provider = localProvider({ database: path, reload: { intervalMs: 100 } });
    const { core, country } = coreOn(provider);
    expect(await country()).toBe('GB');
    replace(path, countryDb('FR', 2));
    await vi.waitFor(async () => expect(await country()).toBe('FR'), { timeout: 2_000, interval: 20 });
    await core.close();
    replace(path, countryDb('GB', 1));
    await new Promise((r) => setTimeout(r, 350));
    expect(provider.ipCountry(PROBE_IP)).toBe('FR');
  });

  it('is off for an explicit path unless asked, and needs a path', () => {
    const path = fileWith(countryDb('GB', 3));
    expect(localProvider({ database: path }).info().reload).toBeNull();
    expect(() => localProvider({ database: countryDb('GB'), reload: true })).toThrow(
      /reload watches a file, but `database` is bytes/,
    );
    expect(() => localProvider({ database: path, reload: { intervalMs: 10 } })).toThrow(IpMatchConfigError);
  });
});

describe('localProvider without `database`: the data dir or the bundled file', () => {
  const saved = process.env.IPMATCH_DATA_DIR;
  afterEach(() => {
    process.env.IPMATCH_DATA_DIR = saved;
  });

  it('reads the bundled file while the data dir is empty, and switches once an update lands', async () => {
    const dir = join(root, `dd${n++}`);
    process.env.IPMATCH_DATA_DIR = dir;
    const provider = localProvider();
    const { country } = coreOn(provider);
    expect(provider.info()).toMatchObject({
      origin: 'bundled',
      reason: 'no file in the data dir yet: run `npx ipmatch db update`',
      dataDir: dir,
      reload: { path: join(dir, 'current.mmdb'), intervalMs: 60_000 },
    });
    expect(await country()).toBe('GB'); // the bundled data's answer

    const fr = countryDb('FR', 1);
    const server = await startDataServer({ '/u.mmdb': fr, '/u.mmdb.sha256': sha256Line(fr) });
    try {
      await updateDatabase({ source: 'user-country', url: `${server.url}/u.mmdb` });
    } finally {
      await server.close();
    }
    expect(await provider.reload()).toBe(true);
    expect(await country()).toBe('FR');
    expect(provider.info()).toMatchObject({ origin: 'data-dir', source: join(dir, 'current.mmdb') });
    expect(provider.info().reason).toMatch(
      /^the data dir's file \(built \d{4}-\d\d-\d\d\) is newer than the bundled data/,
    );
  });

  it('keeps the bundled file when the data dir holds an older build, and says why', () => {
    const dir = join(root, `dd${n++}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'current.mmdb'), countryDb('FR', 2000));
    process.env.IPMATCH_DATA_DIR = dir;
    const info = localProvider().info();
    expect(info.origin).toBe('bundled');
    expect(info.reason).toMatch(/^the data dir's file \(built [\d-]+\) is not newer than the bundled data/);
  });
});

describe('ready()', () => {
  it('reads the data before the first check, so a file gone afterwards does not matter', async () => {
    const path = fileWith(countryDb('GB', 3));
    const { core, country } = coreOn(localProvider({ database: path }));
    await core.ready();
    unlinkSync(path);
    expect(await country()).toBe('GB');
  });

  it('rejects when the data cannot be read, while checks still decide', async () => {
    const path = fileWith(countryDb('GB', 3));
    const { core, logger } = coreOn(localProvider({ database: path }));
    unlinkSync(path);
    await expect(core.ready()).rejects.toThrow(IpMatchConfigError);
    expect((await core.check({ phone: GB_PHONE, ip: PROBE_IP })).reason).toBe('ip_country_unknown');
    expect(logger.lines.map((l) => (l.meta as { code: string }).code)).toEqual(['IPMATCH_DATA_LOAD_FAILED']);
  });

  it('resolves at once for a provider that has nothing to load', async () => {
    const core = createIpMatch({
      provider: {
        name: 'custom',
        remote: false,
        keyIncludesIp: false,
        parsePhone: (raw) => ({ number: raw, country: 'GB', valid: true }),
        ipCountry: () => 'GB',
        lookup: () => ({ country: 'GB', roamingCountry: null }),
      },
    });
    cores.push(core);
    await expect(core.ready()).resolves.toBeUndefined();
  });
});

describe('maxAgeDays', () => {
  it('warns once when the data is older, naming the command that fixes it', async () => {
    const logger = memoryLogger({ stale: true });
    const core = createIpMatch({
      provider: localProvider({ database: countryDb('GB', 20), maxAgeDays: 10 }),
      logger,
    });
    cores.push(core);
    await core.ready();
    await core.check({ phone: GB_PHONE, ip: PROBE_IP });
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]!.msg).toMatch(
      /built 20 days ago.*older than 10 days.*Run `npx ipmatch db update`/,
    );
    expect(logger.lines[0]!.meta).toMatchObject({ code: 'IPMATCH_DATA_STALE', ageDays: 20 });
  });
});

describe('autoUpdate', () => {
  it('needs the data dir and reload', () => {
    const path = fileWith(countryDb('GB', 3));
    expect(() => localProvider({ database: path, autoUpdate: {} })).toThrow(
      /autoUpdate: the updater writes to the data dir/,
    );
    expect(() => localProvider({ autoUpdate: {}, reload: false })).toThrow(/reload, which is off/);
    expect(() => localProvider({ autoUpdate: { intervalMs: 1000 } })).toThrow(IpMatchConfigError);
  });

  it('updates on a timer, reloads after an update, and warns (without throwing) when one fails', async () => {
    const reload = vi.fn(async () => true);
    const logger = memoryLogger();
    const updated = {
      status: 'updated' as const,
      path: '',
      source: 's',
      sha256: '',
      buildDate: '',
      previousBuildDate: null,
    };
    const runs = [
      async () => updated,
      async () => {
        throw Object.assign(new Error('https://example/x.mmdb answered HTTP 503'), { code: 'http_status' });
      },
    ];
    const update = vi.fn((_: { source?: string }) =>
      (runs.shift() ?? (() => new Promise<never>(() => {})))(),
    );
    const updater = startAutoUpdate({ source: 'dbip-country', intervalMs: 20 }, update, reload, logger, {
      firstRunMs: 10,
    });
    try {
      await vi.waitFor(() => expect(logger.lines).toHaveLength(1), { timeout: 2_000 });
    } finally {
      updater.stop();
    }
    expect(reload).toHaveBeenCalledTimes(1);
    expect(update).toHaveBeenCalledWith({ source: 'dbip-country' });
    expect(logger.lines[0]).toMatchObject({
      level: 'warn',
      msg: expect.stringMatching(/automatic GeoIP update failed; the data in use stays: .*HTTP 503/),
      meta: { code: 'IPMATCH_DATA_UPDATE_FAILED', error: 'http_status' },
    });
  });

  it("runs updateDatabase itself when imported from 'ipmatch': a source without its credentials warns", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    vi.stubEnv('MAXMIND_ACCOUNT_ID', '');
    vi.stubEnv('MAXMIND_LICENSE_KEY', '');
    const logger = memoryLogger();
    const provider = localProvider({ autoUpdate: { source: 'geolite2' } });
    provider.attach?.({ logger });
    try {
      await vi.advanceTimersByTimeAsync(5_000);
      await vi.waitFor(() => expect(logger.lines).toHaveLength(1));
    } finally {
      await provider.close?.();
      vi.unstubAllEnvs();
      vi.useRealTimers();
    }
    expect(logger.lines[0]).toMatchObject({
      level: 'warn',
      msg: expect.stringMatching(
        /automatic GeoIP update failed; the data in use stays: .*MAXMIND_ACCOUNT_ID/,
      ),
      meta: { code: 'IPMATCH_DATA_UPDATE_FAILED' },
    });
  });

  it('needs an updater: the provider module alone refuses autoUpdate and names the entry point', async () => {
    expect(() => bareLocalProvider({ autoUpdate: {} })).toThrow(
      /autoUpdate: this localProvider has no updater: use localProvider from 'ipmatch'/,
    );
    const provider = bareLocalProvider({ autoUpdate: {} }, async () => ({ status: 'up_to_date' }));
    await provider.close?.();
  });
});
