import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpMatchDataError, updateDatabase } from 'ipmatch';
import { create } from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/data/redact.js';
import { countryDb, sha256 } from '../fixtures/geo-data.js';
import { startDataServer } from '../helpers/data-server.js';

const root = mkdtempSync(join(tmpdir(), 'ipmatch-sources-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ACCOUNT = '123456';
const LICENCE = 'lic_Secret_abc123';
const MAXMIND_PATH = '/geoip/databases/GeoLite2-Country/download?suffix=tar.gz';
const MAXMIND_SUM = '/geoip/databases/GeoLite2-Country/download?suffix=tar.gz.sha256';

/** A MaxMind-shaped archive: a dated folder holding the .mmdb beside its licence files. */
async function geoLiteArchive(mmdb: Uint8Array | null): Promise<Buffer> {
  const work = mkdtempSync(join(root, 'tar-'));
  const folder = join(work, 'GeoLite2-Country_20261127');
  mkdirSync(folder);
  writeFileSync(join(folder, 'COPYRIGHT.txt'), 'Database and Contents Copyright (c) MaxMind, Inc.');
  writeFileSync(join(folder, 'LICENSE.txt'), 'GeoLite2 End User License Agreement');
  if (mmdb) writeFileSync(join(folder, 'GeoLite2-Country.mmdb'), mmdb);
  const chunks: Buffer[] = [];
  for await (const chunk of create({ gzip: true, cwd: work }, ['GeoLite2-Country_20261127'])) {
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

describe('geolite2', () => {
  it('downloads the tar.gz with Basic auth, checks the archive checksum, installs the .mmdb inside', async () => {
    const mmdb = countryDb('GB');
    const archive = await geoLiteArchive(mmdb);
    const server = await startDataServer({
      [MAXMIND_PATH]: archive,
      [MAXMIND_SUM]: `${sha256(archive)}  GeoLite2-Country_20261127.tar.gz\n`,
    });
    const dir = join(root, 'geolite2');
    const env = { MAXMIND_ACCOUNT_ID: ACCOUNT, MAXMIND_LICENSE_KEY: LICENCE };
    try {
      const result = await updateDatabase({
        source: 'geolite2',
        url: `${server.url}${MAXMIND_PATH}`,
        dir,
        env,
      });
      expect(result).toMatchObject({ status: 'updated', source: 'geolite2', sha256: sha256(mmdb) });
      expect(readFileSync(join(dir, 'current.mmdb'))).toEqual(Buffer.from(mmdb));
      const basic = `Basic ${Buffer.from(`${ACCOUNT}:${LICENCE}`).toString('base64')}`;
      expect(server.requests.map((r) => r.headers.authorization)).toEqual([basic, basic]);
      const manifest = readFileSync(join(dir, 'manifest.json'), 'utf8');
      expect(JSON.parse(manifest)).toMatchObject({ sha256: sha256(mmdb), downloadSha256: sha256(archive) });
      expect(manifest).not.toContain(LICENCE);

      // The archive's checksum decides "nothing new", not the .mmdb's.
      expect(
        await updateDatabase({ source: 'geolite2', url: `${server.url}${MAXMIND_PATH}`, dir, env }),
      ).toMatchObject({
        status: 'up_to_date',
      });
      expect(server.count(MAXMIND_PATH)).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('reports a refused licence key without the key, and refuses an archive without an .mmdb', async () => {
    const empty = await geoLiteArchive(null);
    const server = await startDataServer({
      [MAXMIND_PATH]: (res) => res.writeHead(401).end('Invalid license key'),
      [MAXMIND_SUM]: `${sha256(empty)}  x.tar.gz\n`,
    });
    const run = () =>
      updateDatabase({
        source: 'geolite2',
        url: `${server.url}${MAXMIND_PATH}`,
        dir: join(root, 'geolite2-bad'),
        env: { MAXMIND_ACCOUNT_ID: ACCOUNT, MAXMIND_LICENSE_KEY: LICENCE },
      }).then(
        () => expect.unreachable('the update succeeded'),
        (e: unknown) => e as IpMatchDataError,
      );
    try {
      const refused = await run();
      expect(refused).toBeInstanceOf(IpMatchDataError);
      expect(refused.code).toBe('http_status');
      expect(refused.message).toMatch(/HTTP 401 \(check the account ID, licence key or token\)/);
      expect(JSON.stringify(refused) + String(refused.stack)).not.toContain(LICENCE);

      server.routes.set(MAXMIND_PATH, empty);
      const hollow = await run();
      expect(hollow.code).toBe('invalid_database');
      expect(hollow.message).toMatch(/holds no \.mmdb/);
    } finally {
      await server.close();
    }
  });
});

describe('redactUrl', () => {
  it('keeps no credential of a URL: user:password, tokens, keys, pre-signed signatures', () => {
    expect(redactUrl('https://user:pw@ipinfo.io/data/ipinfo_lite.mmdb?token=abc123')).toBe(
      'https://ipinfo.io/data/ipinfo_lite.mmdb?token=REDACTED',
    );
    expect(
      redactUrl(
        'https://cdn.example/f.mmdb?X-Amz-Credential=AK%2F1&X-Amz-Signature=deadbeef&X-Amz-Expires=300',
      ),
    ).toBe('https://cdn.example/f.mmdb?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Expires=300');
    expect(redactUrl('https://download.maxmind.com/app/geoip_download?license_key=k&suffix=tar.gz')).toBe(
      'https://download.maxmind.com/app/geoip_download?license_key=REDACTED&suffix=tar.gz',
    );
  });
});
