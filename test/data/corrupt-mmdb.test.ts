import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIpMatch, IpMatchDataError, localProvider, updateDatabase } from 'ipmatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMmdb } from '../../src/geodata/mmdb.js';
import { type Corruption, corruptMmdb } from '../fixtures/corrupt-mmdb.js';
import { countryDb, PROBE_IP, sha256 } from '../fixtures/geo-data.js';
import { type DataServer, startDataServer } from '../helpers/data-server.js';
import { memoryLogger } from '../helpers/logger.js';

const root = mkdtempSync(join(tmpdir(), 'ipmatch-corrupt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

const KINDS: Corruption[] = ['self_pointer', 'pointer_cycle', 'tree_outside_file', 'metadata_loop'];
const files = Object.fromEntries(KINDS.map((kind) => [kind, corruptMmdb(kind)])) as Record<
  Corruption,
  Buffer
>;

let server: DataServer;
beforeAll(async () => {
  server = await startDataServer(Object.fromEntries(KINDS.map((kind) => [`/${kind}.mmdb`, files[kind]])));
});
afterAll(() => server.close());

describe('a corrupt MMDB', () => {
  it('opens (its first records are fine) but a lookup of the broken record is a clear error, not a stack overflow', () => {
    for (const kind of ['self_pointer', 'pointer_cycle', 'tree_outside_file'] as const) {
      const mmdb = openMmdb(files[kind], kind);
      expect(mmdb.country('1.2.3.4')).toBe('US');
      expect(() => mmdb.country('200.1.2.3')).toThrow(
        /is corrupt: its record for 200\.1\.2\.3 cannot be read/,
      );
    }
    expect(() => openMmdb(files.metadata_loop, 'metadata_loop')).toThrow(/unreadable MMDB metadata/);
  });

  it.each(KINDS)('%s: updateDatabase fails with invalid_database and installs nothing', async (kind) => {
    const dir = join(root, `u${n++}`);
    const error = await updateDatabase({
      url: `${server.url}/${kind}.mmdb`,
      sha256: sha256(files[kind]),
      dir,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IpMatchDataError);
    expect(error).toMatchObject({ code: 'invalid_database' });
    expect((error as Error).message).not.toMatch(/Maximum call stack/);
  });

  it.each(KINDS)(
    '%s: a running provider never reloads it, and keeps answering from its data',
    async (kind) => {
      const dir = join(root, `r${n++}`);
      mkdirSync(dir);
      const path = join(dir, 'geo.mmdb');
      writeFileSync(path, countryDb('GB', 3));
      const provider = localProvider({ database: path, reload: { intervalMs: 60_000 } });
      const logger = memoryLogger();
      const core = createIpMatch({ provider, logger });
      try {
        const country = async (ip: string) => (await core.check({ phone: '+447400123456', ip })).ip.country;
        expect(await country(PROBE_IP)).toBe('GB');
        writeFileSync(`${path}.tmp`, files[kind]);
        renameSync(`${path}.tmp`, path);
        expect(await provider.reload()).toBe(false);
        expect(await country(PROBE_IP)).toBe('GB');
        expect(await country('200.1.2.3')).toBe('US');
        expect(logger.lines).toEqual([
          expect.objectContaining({
            level: 'warn',
            meta: expect.objectContaining({ code: 'IPMATCH_DATA_RELOAD_FAILED' }),
          }),
        ]);
      } finally {
        await core.close();
      }
    },
  );
});
