import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IpMatchDataError, updateDatabase } from 'ipmatch';
import { describe, expect, it } from 'vitest';
import { countryDb, sha256, sha256Line } from '../fixtures/geo-data.js';
import { useDataServer } from '../helpers/data-server.js';

// The checksum race of `updateDatabase`: the publisher replaces its file and its checksum seconds apart.
const data = useDataServer('ipmatch-verified-');
const { freshDir } = data;

const GB = countryDb('GB', 2);
const FR = countryDb('FR', 1);
const MID_UPLOAD = countryDb('DE', 1);
const FILE = '/user-country.mmdb';
const SUM = '/user-country.mmdb.sha256';

const update = (dir: string) =>
  updateDatabase({ source: 'user-country', url: `${data.server.url}${FILE}`, dir, retryDelayMs: 10 });

describe('updateDatabase, when the file and its checksum disagree', () => {
  it('answers up_to_date without a second download when the checksum, looked at again, is the installed file', async () => {
    const dir = freshDir();
    data.server.routes.set(FILE, GB);
    data.server.routes.set(SUM, sha256Line(GB));
    await update(dir);
    data.server.requests.length = 0;
    // A new build is announced, the file is half replaced, then the publisher rolls back to the installed build.
    data.server.routes.set(FILE, MID_UPLOAD);
    data.server.routes.set(SUM, (res, hit) => res.end(sha256Line(hit === 1 ? FR : GB)));
    expect(await update(dir)).toMatchObject({ status: 'up_to_date', sha256: sha256(GB) });
    expect(data.server.count(FILE)).toBe(1);
    expect(data.server.count(SUM)).toBe(2);
    expect(readFileSync(join(dir, 'current.mmdb'))).toEqual(Buffer.from(GB));
    expect(readdirSync(dir).sort()).toEqual(['current.mmdb', 'manifest.json']);
  });

  it('downloads again when the checksum moved on, and installs the file that matches it', async () => {
    const dir = freshDir();
    data.server.routes.set(FILE, (res, hit) => res.end(Buffer.from(hit === 1 ? MID_UPLOAD : FR)));
    data.server.routes.set(SUM, (res, hit) => res.end(sha256Line(hit === 1 ? GB : FR)));
    expect(await update(dir)).toMatchObject({ status: 'updated', sha256: sha256(FR) });
    expect(data.server.count(FILE)).toBe(2);
    expect(readFileSync(join(dir, 'current.mmdb'))).toEqual(Buffer.from(FR));
  });

  it('names the file without its token when two downloads miss the checksum', async () => {
    const dir = freshDir();
    const secret = 'tok-5e3c9f1a7b2d';
    data.server.routes.set(`${FILE}?token=${secret}`, MID_UPLOAD);
    data.server.routes.set(SUM, sha256Line(GB));
    const error = await updateDatabase({
      url: `${data.server.url}${FILE}?token=${secret}`,
      sha256Url: `${data.server.url}${SUM}`,
      dir,
      retryDelayMs: 10,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpMatchDataError);
    expect(error).toMatchObject({ code: 'checksum_mismatch', message: expect.stringMatching(/twice/) });
    expect(String((error as Error).message)).not.toContain(secret);
    expect(data.server.count(`${FILE}?token=${secret}`)).toBe(2);
  });
});
