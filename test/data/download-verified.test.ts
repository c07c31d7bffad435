import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpMatchDataError, updateDatabase } from 'ipmatch';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { countryDb, sha256, sha256Line } from '../fixtures/geo-data.js';
import { type DataServer, startDataServer } from '../helpers/data-server.js';

// The checksum race of `updateDatabase`: the publisher replaces its file and its checksum seconds apart.
const root = mkdtempSync(join(tmpdir(), 'ipmatch-verified-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `d${n++}`);

const GB = countryDb('GB', 2);
const FR = countryDb('FR', 1);
const MID_UPLOAD = countryDb('DE', 1);
const FILE = '/user-country.mmdb';
const SUM = '/user-country.mmdb.sha256';

let server: DataServer;
beforeAll(async () => {
  server = await startDataServer();
});
afterAll(() => server.close());
afterEach(() => {
  server.routes.clear();
  server.requests.length = 0;
});

const update = (dir: string) =>
  updateDatabase({ source: 'user-country', url: `${server.url}${FILE}`, dir, retryDelayMs: 10 });

describe('updateDatabase, when the file and its checksum disagree', () => {
  it('answers up_to_date without a second download when the checksum, looked at again, is the installed file', async () => {
    const dir = freshDir();
    server.routes.set(FILE, GB);
    server.routes.set(SUM, sha256Line(GB));
    await update(dir);
    server.requests.length = 0;
    // A new build is announced, the file is half replaced, then the publisher rolls back to the installed build.
    server.routes.set(FILE, MID_UPLOAD);
    server.routes.set(SUM, (res, hit) => res.end(sha256Line(hit === 1 ? FR : GB)));
    expect(await update(dir)).toMatchObject({ status: 'up_to_date', sha256: sha256(GB) });
    expect(server.count(FILE)).toBe(1);
    expect(server.count(SUM)).toBe(2);
    expect(readFileSync(join(dir, 'current.mmdb'))).toEqual(Buffer.from(GB));
    expect(readdirSync(dir).sort()).toEqual(['current.mmdb', 'manifest.json']);
  });

  it('downloads again when the checksum moved on, and installs the file that matches it', async () => {
    const dir = freshDir();
    server.routes.set(FILE, (res, hit) => res.end(Buffer.from(hit === 1 ? MID_UPLOAD : FR)));
    server.routes.set(SUM, (res, hit) => res.end(sha256Line(hit === 1 ? GB : FR)));
    expect(await update(dir)).toMatchObject({ status: 'updated', sha256: sha256(FR) });
    expect(server.count(FILE)).toBe(2);
    expect(readFileSync(join(dir, 'current.mmdb'))).toEqual(Buffer.from(FR));
  });

  it('names the file without its token when two downloads miss the checksum', async () => {
    const dir = freshDir();
    const secret = 'tok-5e3c9f1a7b2d';
    server.routes.set(`${FILE}?token=${secret}`, MID_UPLOAD);
    server.routes.set(SUM, sha256Line(GB));
    const error = await updateDatabase({
      url: `${server.url}${FILE}?token=${secret}`,
      sha256Url: `${server.url}${SUM}`,
      dir,
      retryDelayMs: 10,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpMatchDataError);
    expect(error).toMatchObject({ code: 'checksum_mismatch', message: expect.stringMatching(/twice/) });
    expect(String((error as Error).message)).not.toContain(secret);
    expect(server.count(`${FILE}?token=${secret}`)).toBe(2);
  });
});
