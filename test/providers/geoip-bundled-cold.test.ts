/** The bundled GeoIP file at a cold start: its path resolved at construction, its bytes checked when first read. */
import fs, { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { openGeoIp } from '../../src/providers/geoip/index.js';

const bundled = createRequire(import.meta.url).resolve(
  '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb',
);
const dataDir = mkdtempSync(join(tmpdir(), 'ipmatch-bundled-cold-'));
const saved = process.env.IPMATCH_DATA_DIR;
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
  process.env.IPMATCH_DATA_DIR = saved;
});

const logger = () => ({ warn: vi.fn(), error: vi.fn() });

describe('openGeoIp on the bundled file, with no file in the data dir', () => {
  it('does not open the shipped file to inspect its tail when built, and reads and checks it whole on first use', () => {
    process.env.IPMATCH_DATA_DIR = dataDir;
    const openSync = vi.spyOn(fs, 'openSync');
    const readFileSync = vi.spyOn(fs, 'readFileSync');
    const geoIp = openGeoIp({}, logger());
    expect(openSync.mock.calls.filter(([path]) => path === bundled)).toEqual([]);
    expect(readFileSync).not.toHaveBeenCalled();

    expect(geoIp.country('81.2.69.160')).toBe('GB');
    expect(readFileSync.mock.calls.filter(([path]) => path === bundled)).toHaveLength(1);
    expect(geoIp.info()).toMatchObject({
      origin: 'bundled',
      reason: 'no file in the data dir yet: run `npx ipmatch db update`',
      buildDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });
});
