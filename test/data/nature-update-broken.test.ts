import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpMatchDataError, updateDatabase } from 'ipmatch';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadNatureTable } from '../../src/geodata/nature/index.js';
import { naturePathInDataDir } from '../../src/geodata/nature-files.js';
import { type FeedServer, startFeedServer } from '../helpers/feed-server.js';

// The compiler's writer, broken on demand: the one way to make the updater hold a file that does not load.
const writer = vi.hoisted(() => ({ corrupt: false }));
vi.mock('../../src/geodata/nature/format.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/geodata/nature/format.js')>();
  return {
    ...real,
    writeNatureTable: (...args: Parameters<typeof real.writeNatureTable>) => {
      const bytes = real.writeNatureTable(...args);
      if (writer.corrupt) bytes.fill(0xff, bytes.length - 64); // the last segments' labels point nowhere
      return bytes;
    },
  };
});

const root = mkdtempSync(join(tmpdir(), 'ipmatch-nature-broken-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let feeds: FeedServer;
beforeAll(async () => {
  feeds = await startFeedServer({ aws: ['81.2.69.0/28'], tor: ['81.2.71.2'] });
});
afterAll(() => feeds.close());

const update = (dir: string) => updateDatabase({ dataset: 'ip-nature', dir, feeds: feeds.urls });

describe('an IP-nature update that compiles a broken file', () => {
  it('never installs it: the installed table stays, byte for byte, and no temp file is left', async () => {
    const dir = join(root, 'a');
    await update(dir);
    const before = readFileSync(naturePathInDataDir(dir));
    writer.corrupt = true;
    try {
      const error = await update(dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IpMatchDataError);
      expect(error).toMatchObject({ code: 'invalid_database' });
    } finally {
      writer.corrupt = false;
    }
    expect(readFileSync(naturePathInDataDir(dir)).equals(before)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['ip-nature.bin', 'ip-nature.json']);
  });

  it('reads a data dir whose ip-nature.bin is broken as having none: the bundled ranges are kept', async () => {
    const dir = join(root, 'b');
    mkdirSync(dir);
    writeFileSync(naturePathInDataDir(dir), 'not a table');
    const r = await update(dir);
    expect(r.previousBuiltAt).toBeNull();
    // oracle was not published: it failed and keeps the snapshot's ranges, not the broken file's nothing.
    expect(r.feeds.find((f) => f.name === 'oracle')).toMatchObject({ status: 'failed' });
    expect(r.feeds.find((f) => f.name === 'oracle')!.ranges).toBeGreaterThan(100);
    expect(loadNatureTable(naturePathInDataDir(dir)).lookup('81.2.71.2')).toMatchObject({ network: 'tor' });
    expect(existsSync(join(dir, 'ip-nature.previous.bin'))).toBe(true);
  });
});
