import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IpMatchConfigError, IpMatchDataError, type UpdateOptions, updateDatabase } from 'ipmatch';
import { describe, expect, it } from 'vitest';
import { countryDb, sha256, sha256Line, shrunkDb } from '../fixtures/geo-data.js';
import { startDataServer, useDataServer } from '../helpers/data-server.js';

const data = useDataServer('ipmatch-update-');
const { freshDir } = data;

const GB = countryDb('GB', 2);
const FR = countryDb('FR', 1);
const FILE = '/user-country.mmdb';
const SUM = '/user-country.mmdb.sha256';

/** Serves `bytes` as the user-country file with its checksum (or `checksum` when given). */
function publish(bytes: Uint8Array | string, checksum = sha256Line(Buffer.from(bytes))) {
  data.server.routes.set(FILE, bytes);
  data.server.routes.set(SUM, checksum);
}

function update(dir: string, extra: Partial<UpdateOptions> = {}) {
  return updateDatabase({
    source: 'user-country',
    url: `${data.server.url}${FILE}`,
    dir,
    retryDelayMs: 10,
    ...extra,
  });
}

async function failure(promise: Promise<unknown>): Promise<IpMatchDataError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IpMatchDataError);
  return error as IpMatchDataError;
}

/** The data dir holds the installed files only: no temp file, no lock left behind. */
function filesOf(dir: string): string[] {
  return readdirSync(dir).sort();
}

describe('updateDatabase', () => {
  it('installs a fresh file, with a manifest, and answers up_to_date next time without downloading it', async () => {
    const dir = freshDir();
    publish(GB);
    const first = await update(dir);
    expect(first).toEqual({
      status: 'updated',
      path: join(dir, 'current.mmdb'),
      source: 'user-country',
      sha256: sha256(GB),
      buildDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      previousBuildDate: null,
    });
    expect(readFileSync(join(dir, 'current.mmdb'))).toEqual(Buffer.from(GB));
    expect(filesOf(dir)).toEqual(['current.mmdb', 'manifest.json']);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      source: 'user-country',
      url: `${data.server.url}${FILE}`,
      sha256: sha256(GB),
      buildDate: first.buildDate,
      size: GB.length,
      previous: null,
    });

    const again = await update(dir);
    expect(again).toMatchObject({ status: 'up_to_date', sha256: sha256(GB), buildDate: first.buildDate });
    expect(data.server.count(FILE)).toBe(1);
    expect(data.server.count(SUM)).toBe(2);
  });

  it('keeps the replaced file as previous.mmdb', async () => {
    const dir = freshDir();
    publish(GB);
    const first = await update(dir);
    publish(FR);
    const second = await update(dir);
    expect(second).toMatchObject({
      status: 'updated',
      previousBuildDate: first.buildDate,
      sha256: sha256(FR),
    });
    expect(readFileSync(join(dir, 'previous.mmdb'))).toEqual(Buffer.from(GB));
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).previous).toMatchObject({
      sha256: sha256(GB),
    });
  });

  it('retries once after a checksum mismatch, then fails and keeps the old data', async () => {
    const dir = freshDir();
    publish(GB);
    await update(dir);
    publish(FR, sha256Line(Buffer.from('something else')));
    const error = await failure(update(dir));
    expect(error.code).toBe('checksum_mismatch');
    expect(error.message).toMatch(/twice/);
    expect(data.server.count(FILE)).toBe(3); // the first install, then a download and one retry
    expect(readFileSync(join(dir, 'current.mmdb'))).toEqual(Buffer.from(GB));
    expect(filesOf(dir)).toEqual(['current.mmdb', 'manifest.json']);
  });

  it('accepts the file when the checksum catches up during the pause (the publisher mid-upload)', async () => {
    const dir = freshDir();
    data.server.routes.set(FILE, FR);
    data.server.routes.set(SUM, (res, hit) => res.end(hit === 1 ? sha256Line(GB) : sha256Line(FR)));
    expect(await update(dir)).toMatchObject({ status: 'updated', sha256: sha256(FR) });
    expect(data.server.count(FILE)).toBe(1);
  });

  it('fails on a body cut short, and leaves no partial file', async () => {
    const dir = freshDir();
    data.server.routes.set(SUM, sha256Line(GB));
    data.server.routes.set(FILE, (res) => {
      res.writeHead(200, { 'content-length': GB.length });
      res.write(Buffer.from(GB).subarray(0, 1000));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const error = await failure(update(dir));
    expect(error.code).toBe('download_failed');
    expect(filesOf(dir)).toEqual([]);
  });

  it.each([404, 500])('fails on HTTP %i', async (status) => {
    const dir = freshDir();
    data.server.routes.set(SUM, sha256Line(GB));
    data.server.routes.set(FILE, (res) => res.writeHead(status).end('nope'));
    const error = await failure(update(dir));
    expect(error.code).toBe('http_status');
    expect(error.message).toContain(`HTTP ${status}`);
  });

  it('gives up on a server that goes silent', async () => {
    const dir = freshDir();
    data.server.routes.set(SUM, sha256Line(GB));
    data.server.routes.set(FILE, (res) => {
      res.writeHead(200, { 'content-length': GB.length });
      res.write(Buffer.from(GB).subarray(0, 100)); // then nothing
    });
    const error = await failure(update(dir, { limits: { idleTimeoutMs: 300 } }));
    expect(error.code).toBe('timeout');
    expect(filesOf(dir)).toEqual([]);
  });

  it('refuses a body over the size cap, announced or not', async () => {
    const dir = freshDir();
    publish(GB);
    expect((await failure(update(dir, { limits: { maxBytes: 1000 } }))).code).toBe('too_large');
    data.server.routes.set(FILE, (res) => {
      res.writeHead(200); // chunked: no length announced
      res.end(Buffer.from(GB));
    });
    expect((await failure(update(dir, { limits: { maxBytes: 1000 } }))).code).toBe('too_large');
    expect(filesOf(dir)).toEqual([]);
  });

  it('follows a redirect to another host, without the credentials', async () => {
    const dir = freshDir();
    const cdn = await startDataServer({ '/signed/user-country.mmdb': GB });
    try {
      data.server.routes.set(FILE, (res) =>
        res.writeHead(302, { location: `${cdn.url}/signed/user-country.mmdb` }).end(),
      );
      // IPinfo publishes its checksum as JSON at <file>/checksums.
      data.server.routes.set(`${FILE}/checksums`, JSON.stringify({ checksums: { sha256: sha256(GB) } }));
      const ok = await updateDatabase({
        source: 'ipinfo-lite',
        url: `${data.server.url}${FILE}`,
        dir,
        env: { IPINFO_TOKEN: 'tok_secret_123' },
      });
      expect(ok).toMatchObject({ status: 'updated', source: 'ipinfo-lite' });
      expect(data.server.requests.find((r) => r.path === FILE)?.headers.authorization).toBe(
        'Bearer tok_secret_123',
      );
      expect(cdn.requests[0]?.headers.authorization).toBeUndefined();
      expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).not.toContain('tok_secret_123');
    } finally {
      await cdn.close();
    }
  });

  it('refuses what is not an MMDB, even with a matching checksum', async () => {
    const dir = freshDir();
    publish('<html>rate limited</html>');
    const error = await failure(update(dir));
    expect(error.code).toBe('invalid_database');
    expect(error.message).toMatch(/not an MMDB/);
    expect(filesOf(dir)).toEqual([]);
  });

  it('refuses a build dated in the future', async () => {
    const dir = freshDir();
    publish(countryDb('GB', -3));
    expect((await failure(update(dir))).code).toBe('future_build');
  });

  it('refuses a build older than the installed one, unless forced', async () => {
    const dir = freshDir();
    publish(FR);
    await update(dir);
    publish(GB); // built a day before FR
    const error = await failure(update(dir));
    expect(error.code).toBe('older_build');
    expect(error.message).toMatch(/--force/);
    expect(await update(dir, { force: true })).toMatchObject({ status: 'updated', sha256: sha256(GB) });
  });

  it('refuses a build that has lost most of the networks the installed data knows', async () => {
    const dir = freshDir();
    publish(GB);
    await update(dir);
    publish(shrunkDb('FR'));
    const error = await failure(update(dir));
    expect(error.code).toBe('sanity_failed');
    expect(readFileSync(join(dir, 'current.mmdb'))).toEqual(Buffer.from(GB));
  });

  it('runs two updaters at once without harm: one downloads, the other finds it up to date', async () => {
    const dir = freshDir();
    data.server.routes.set(SUM, sha256Line(GB));
    // Slow enough that the second updater arrives while the first holds the lock.
    data.server.routes.set(FILE, (res) => {
      res.writeHead(200, { 'content-length': GB.length });
      setTimeout(() => res.end(Buffer.from(GB)), 300);
    });
    const results = await Promise.all([update(dir), update(dir)]);
    expect(results.map((r) => r.status).sort()).toEqual(['up_to_date', 'updated']);
    expect(data.server.count(FILE)).toBe(1);
    expect(filesOf(dir)).toEqual(['current.mmdb', 'manifest.json']);
  });

  it('takes over a lock left by a process that no longer runs, at once', async () => {
    const dir = freshDir();
    publish(GB);
    await update(dir);
    const dead = {
      pid: 2 ** 22 + 12345,
      host: (await import('node:os')).hostname(),
      token: 'x',
      since: 'then',
    };
    writeFileSync(join(dir, 'update.lock'), JSON.stringify(dead));
    writeFileSync(join(dir, '.ipmatch-download-1-abcd.tmp'), 'half a file');
    publish(FR);
    const started = Date.now();
    expect(await update(dir, { lockWaitMs: 0 })).toMatchObject({ status: 'updated' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(filesOf(dir)).toEqual(['current.mmdb', 'manifest.json', 'previous.mmdb']);
  });

  it('says another update is running when the lock holder is alive', async () => {
    const dir = freshDir();
    publish(GB);
    await update(dir);
    const live = { pid: process.pid, host: (await import('node:os')).hostname(), token: 'y', since: 'now' };
    writeFileSync(join(dir, 'update.lock'), JSON.stringify(live));
    const error = await failure(update(dir, { lockWaitMs: 300 }));
    expect(error.code).toBe('locked');
    expect(error.message).toContain(`pid ${process.pid}`);
  });
});

describe('updateDatabase options', () => {
  it('needs a checksum for a bare --url, unless skipped on purpose', async () => {
    publish(GB);
    const dir = freshDir();
    await expect(updateDatabase({ url: `${data.server.url}${FILE}`, dir })).rejects.toThrow(
      /sha256Url \(--sha256-url\) or sha256 \(--sha256\)/,
    );
    expect(existsSync(dir)).toBe(false);
    expect(
      await updateDatabase({ url: `${data.server.url}${FILE}`, dir, insecureNoChecksum: true }),
    ).toMatchObject({
      status: 'updated',
      source: 'url',
    });
    expect(await updateDatabase({ url: `${data.server.url}${FILE}`, dir, sha256: sha256(GB) })).toMatchObject(
      {
        status: 'up_to_date',
      },
    );
    expect(data.server.count(FILE)).toBe(1);
  });

  it('refuses plain http beyond loopback, and names missing credentials', async () => {
    await expect(updateDatabase({ url: 'http://example.com/x.mmdb', sha256: sha256(GB) })).rejects.toThrow(
      /url: expected an https URL/,
    );
    await expect(updateDatabase({ source: 'geolite2', env: {} })).rejects.toThrow(IpMatchConfigError);
    await expect(updateDatabase({ source: 'geolite2', env: { MAXMIND_ACCOUNT_ID: '1' } })).rejects.toThrow(
      /missing: MAXMIND_LICENSE_KEY/,
    );
    await expect(updateDatabase({ source: 'user-contry' as never })).rejects.toThrow(
      /did you mean|expected one of/,
    );
  });
});

describe('rollback', () => {
  it('makes the previous file current, a second rollback undoes the first, and none is a clear failure', async () => {
    const { rollbackDatabase } = await import('../../src/data/rollback.js');
    const dir = freshDir();
    publish(GB);
    await update(dir);
    expect((await failure(rollbackDatabase({ dir }))).code).toBe('no_previous');
    publish(FR);
    const updated = await update(dir);
    const back = await rollbackDatabase({ dir });
    expect(back).toMatchObject({
      status: 'rolled_back',
      sha256: sha256(GB),
      previousBuildDate: updated.buildDate,
    });
    expect(readFileSync(join(dir, 'current.mmdb'))).toEqual(Buffer.from(GB));
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))).toMatchObject({
      sha256: sha256(GB),
      previous: { sha256: sha256(FR) },
    });
    await rollbackDatabase({ dir });
    expect(readFileSync(join(dir, 'current.mmdb'))).toEqual(Buffer.from(FR));
    expect(filesOf(dir)).toEqual(['current.mmdb', 'manifest.json', 'previous.mmdb']);
  });
});
