import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reader } from 'mmdb-lib';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { IpMatchConfigError } from '../../src/core/errors.js';
import { DATA_MAX_AGE_DAYS, openGeoIp } from '../../src/providers/geoip/index.js';
import { type MmdbWriterOptions, writeMmdb } from '../fixtures/mmdb-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'ipmatch-geoip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const packageDir = createRequire(import.meta.url)
  .resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb')
  .replace(/geo-whois-asn-country\.mmdb$/, '');

function spyLogger() {
  return { warn: vi.fn(), error: vi.fn() };
}

function fileOf(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** GeoLite2-Country-shaped records. */
const maxmind: MmdbWriterOptions = {
  ipVersion: 6,
  databaseType: 'GeoLite2-Country',
  networks: {
    '81.2.69.0/24': {
      continent: { code: 'EU', geoname_id: 6255148, names: { en: 'Europe' } },
      country: {
        geoname_id: 2635167,
        iso_code: 'GB',
        names: { en: 'United Kingdom', de: 'Vereinigtes Königreich' },
      },
      registered_country: { geoname_id: 2635167, iso_code: 'GB', names: { en: 'United Kingdom' } },
    },
    // No `country`: MaxMind does this for some anycast and satellite networks.
    '1.1.1.0/24': { registered_country: { geoname_id: 2077456, iso_code: 'AU', names: { en: 'Australia' } } },
    // Continent only.
    '5.5.5.0/24': { continent: { code: 'EU', geoname_id: 6255148, names: { en: 'Europe' } } },
    '2a02:cf40::/29': { country: { geoname_id: 3144096, iso_code: 'NO', names: { en: 'Norway' } } },
  },
};

/** IPinfo's older country / country_asn files: `country` is the code, `country_name` the name. */
const ipinfo: MmdbWriterOptions = {
  ipVersion: 6,
  databaseType: 'ipinfo country_asn.mmdb',
  networks: {
    '89.160.20.0/24': { country: 'se', country_name: 'Sweden', continent: 'EU', asn: 'AS29518' },
    '2001:4860::/32': { country: 'US', country_name: 'United States', continent: 'NA', asn: 'AS15169' },
  },
};

/** IPinfo Lite: `country` is the name and `country_code` the code. */
const ipinfoLite: MmdbWriterOptions = {
  ipVersion: 6,
  databaseType: 'ipinfo lite.mmdb',
  networks: {
    '89.160.20.0/24': { country: 'Sweden', country_code: 'SE', continent: 'Europe', continent_code: 'EU' },
  },
};

/** ip-location-db's shape, in an IPv4-only tree. */
const ipLocationDbV4: MmdbWriterOptions = {
  ipVersion: 4,
  databaseType: 'country ipv4',
  networks: { '81.2.69.0/24': { country_code: 'GB' }, '211.234.0.0/16': { country_code: 'KR' } },
};

describe('openGeoIp with the bundled data', () => {
  const geo = openGeoIp({}, spyLogger());

  it.each([
    ['81.2.69.160', 'GB'],
    ['1.1.1.1', 'AU'],
    ['8.8.8.8', 'US'],
    ['211.234.0.1', 'KR'],
    ['2001:4860:4860::8888', 'US'],
  ])('finds %s in %s', (address, country) => {
    expect(geo.country(address)).toBe(country);
    expect(geo.country(address)).toBe(country); // kept from the first time (IPv4 table, IPv6 LRU)
  });

  it('keeps IPv4 answers in a table whose shared slots never mix two addresses up', () => {
    // 16 slots for 2 000 addresses: every slot is taken over and over, and each answer must stay its own.
    const small = openGeoIp({ cacheSize: 1 }, spyLogger());
    const none = openGeoIp({ cacheSize: 0 }, spyLogger());
    const addresses = Array.from({ length: 2000 }, (_, i) => {
      const v = Math.imul(i + 1, 0x2545f491) >>> 0;
      return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
    });
    const expected = addresses.map((a) => none.country(a));
    for (let round = 0; round < 2; round++) {
      expect(addresses.map((a) => small.country(a))).toEqual(expected);
      expect([...addresses].reverse().map((a) => small.country(a))).toEqual([...expected].reverse());
    }
    expect(new Set(expected).size).toBeGreaterThan(20);
  });

  it('has no country for addresses outside the data', () => {
    expect(geo.country('10.0.0.1')).toBeNull();
    expect(geo.country('::1')).toBeNull();
  });

  it('describes the data', () => {
    const info = geo.info();
    expect(info).toMatchObject({
      source: 'geo-whois-asn-country (ip-location-db, CC BY 4.0 NRO)',
      databaseType: 'country ipvAll',
      ipv4: true,
      ipv6: true,
      schema: 'country_code',
    });
    expect(new Date(info.buildDate).toISOString()).toBe(info.buildDate);
    expect(info.ageDays).toBe(Math.floor((Date.now() - Date.parse(info.buildDate)) / 86_400_000));
  });
});

describe('openGeoIp rejects what is not an MMDB when it is built', () => {
  it('a path with no file', () => {
    const build = () => openGeoIp({ database: join(dir, 'GeoLite2-Country.mmdb') }, spyLogger());
    expect(build).toThrow(IpMatchConfigError);
    expect(build).toThrow(
      /no file at ".*GeoLite2-Country\.mmdb"\. Pass the path \(or bytes\) of an \.mmdb file/,
    );
  });

  it('a directory', () => {
    expect(() => openGeoIp({ database: dir }, spyLogger())).toThrow(/is not a file/);
  });

  it('a file that is not MMDB', () => {
    const csv = fileOf('geo.csv', Buffer.from('1.0.0.0,1.0.0.255,AU\n'));
    expect(() => openGeoIp({ database: csv }, spyLogger())).toThrow(/"[^"]*geo\.csv" is not an MMDB file/);
  });

  it('garbage bytes', () => {
    const garbage = new Uint8Array(4096).map((_, i) => (i * 7919) % 251);
    expect(() => openGeoIp({ database: garbage }, spyLogger())).toThrow(IpMatchConfigError);
    expect(() => openGeoIp({ database: new Uint8Array(0) }, spyLogger())).toThrow(/not an MMDB file/);
  });

  it('a MaxMind download that was not unpacked', () => {
    const targz = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4]);
    expect(() => openGeoIp({ database: targz }, spyLogger())).toThrow(/gzip-compressed: unpack it first/);
  });

  it('a truncated file', () => {
    const whole = Buffer.from(writeMmdb(maxmind));
    const marker = whole.lastIndexOf(Buffer.from('\xAB\xCD\xEFMaxMind.com', 'latin1'));
    const cut = Buffer.concat([whole.subarray(0, 100), whole.subarray(marker)]);
    expect(() => openGeoIp({ database: cut }, spyLogger())).toThrow(/truncated or corrupt/);
  });

  it('a database without countries, such as GeoLite2-ASN', () => {
    const asn = writeMmdb({
      ipVersion: 6,
      databaseType: 'GeoLite2-ASN',
      networks: {
        '1.1.1.0/24': { autonomous_system_number: 13335, autonomous_system_organization: 'CLOUDFLARENET' },
      },
    });
    expect(() => openGeoIp({ database: asn }, spyLogger())).toThrow(
      /"GeoLite2-ASN" database, which has no countries\. Pass a country or city database/,
    );
  });

  it('options it does not know, naming the nearest', () => {
    expect(() => openGeoIp({ databse: '/x.mmdb' } as never, spyLogger())).toThrow(/did you mean "database"/);
    expect(() => openGeoIp({ cacheSize: -1 }, spyLogger())).toThrow(/cacheSize/);
    expect(() => openGeoIp({ database: 42 } as never, spyLogger())).toThrow(
      /database: expected a file path or the MMDB bytes, got 42/,
    );
  });
});

describe('openGeoIp reads any country schema', () => {
  it('MaxMind GeoIP2/GeoLite2: country.iso_code, else registered_country.iso_code', () => {
    const geo = openGeoIp({ database: writeMmdb(maxmind) }, spyLogger());
    expect(geo.country('81.2.69.160')).toBe('GB');
    expect(geo.country('1.1.1.1')).toBe('AU');
    expect(geo.country('5.5.5.5')).toBeNull();
    expect(geo.country('2a02:cf40::1')).toBe('NO');
    expect(geo.country('8.8.8.8')).toBeNull();
    expect(geo.info()).toMatchObject({
      source: 'bytes',
      databaseType: 'GeoLite2-Country',
      schema: 'country.iso_code',
    });
  });

  it('IPinfo country files: country as a code, upper-cased', () => {
    const geo = openGeoIp({ database: writeMmdb(ipinfo) }, spyLogger());
    expect(geo.country('89.160.20.112')).toBe('SE');
    expect(geo.country('2001:4860:4860::8888')).toBe('US');
    expect(geo.info().schema).toBe('country');
  });

  it('IPinfo Lite: country_code, not the country name', () => {
    const geo = openGeoIp({ database: writeMmdb(ipinfoLite) }, spyLogger());
    expect(geo.country('89.160.20.112')).toBe('SE');
    expect(geo.info().schema).toBe('country_code');
  });

  it('ip-location-db: country_code, from a file path', () => {
    const path = fileOf('country-ipv4.mmdb', writeMmdb(ipLocationDbV4));
    const geo = openGeoIp({ database: path }, spyLogger());
    expect(geo.country('211.234.0.1')).toBe('KR');
    expect(geo.info()).toMatchObject({ source: path, schema: 'country_code', ipv4: true, ipv6: false });
  });

  it('stays right with more distinct records than it keeps decoded (city-sized data)', () => {
    const codes = ['GB', 'FR', 'DE', 'JP', 'BR'];
    const networks: Record<string, { country: { iso_code: string }; city: { geoname_id: number } }> = {};
    for (let i = 0; i < 6000; i++) {
      networks[`20.${i >> 8}.${i & 255}.0/24`] = {
        country: { iso_code: codes[i % 5]! },
        city: { geoname_id: i },
      };
    }
    const geo = openGeoIp(
      { database: writeMmdb({ ipVersion: 6, databaseType: 'GeoLite2-City', networks }) },
      spyLogger(),
    );
    for (const pass of [1, 2]) {
      const wrong = [];
      for (let i = 0; i < 6000; i++) {
        if (geo.country(`20.${i >> 8}.${i & 255}.${pass}`) !== codes[i % 5]) wrong.push(i);
      }
      expect(wrong).toEqual([]);
    }
  });

  it('says so on first use when the records hold no country at all', () => {
    const tags = writeMmdb({
      ipVersion: 4,
      databaseType: 'Custom-Tags',
      networks: { '1.0.0.0/8': { tag: 'x' } },
    });
    const logger = spyLogger();
    const geo = openGeoIp({ database: tags }, logger);
    expect(() => geo.load()).toThrow(/has no country in its records \(looked for country_code/);
    expect(geo.country('1.2.3.4')).toBeNull();
    expect(geo.country('1.2.3.5')).toBeNull();
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.error.mock.calls[0]![1]).toMatchObject({ code: 'IPMATCH_DATA_LOAD_FAILED' });
  });
});

describe('openGeoIp and IP versions', () => {
  it('answers no IPv6 address from an IPv4-only tree, where a bare reader answers garbage', () => {
    const v4only = join(packageDir, 'geo-whois-asn-country-ipv4.mmdb');
    const bare = new Reader(readFileSync(v4only));
    expect(bare.get('2a00:1450:4001::1')).not.toBeNull(); // 128 bits walked down a 32-bit tree
    const geo = openGeoIp({ database: v4only }, spyLogger());
    expect(geo.country('2a00:1450:4001::1')).toBeNull();
    expect(geo.country('8.8.8.8')).toBe('US');
    expect(geo.info()).toMatchObject({ ipv4: true, ipv6: false });
  });

  it('finds IPv4 addresses in an IPv6 tree, and warns once when that tree has no IPv4 at all', () => {
    expect(openGeoIp({ database: writeMmdb(maxmind) }, spyLogger()).info()).toMatchObject({
      ipv4: true,
      ipv6: true,
    });
    const logger = spyLogger();
    const geo = openGeoIp({ database: join(packageDir, 'geo-whois-asn-country-ipv6.mmdb') }, logger);
    expect(geo.country('8.8.8.8')).toBeNull();
    expect(geo.country('2001:4860:4860::8888')).toBe('US');
    expect(geo.info()).toMatchObject({ ipv4: false, ipv6: true });
    const noV4 = logger.warn.mock.calls.filter(([, meta]) => meta?.code === 'IPMATCH_DATA_NO_IPV4');
    expect(noV4).toHaveLength(1);
  });
});

describe('openGeoIp loading and freshness', () => {
  it('reads the file once, on first use', () => {
    const path = fileOf('swap.mmdb', writeMmdb(ipLocationDbV4));
    const geo = openGeoIp({ database: path, cacheSize: 0 }, spyLogger());
    const other = { ...ipLocationDbV4, networks: { '81.2.69.0/24': { country_code: 'IE' } } };
    writeFileSync(path, writeMmdb(other)); // replaced after construction: not yet read
    expect(geo.country('81.2.69.160')).toBe('IE');
    writeFileSync(path, writeMmdb(ipLocationDbV4)); // replaced after first use: already read
    expect(geo.country('81.2.69.160')).toBe('IE');
  });

  it('keeps answering (null) and logs one error when the file vanished before first use', () => {
    const path = fileOf('vanishing.mmdb', writeMmdb(ipLocationDbV4));
    const logger = spyLogger();
    const geo = openGeoIp({ database: path }, logger);
    unlinkSync(path);
    expect(geo.country('81.2.69.160')).toBeNull();
    expect(geo.country('211.234.0.1')).toBeNull();
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(() => geo.info()).toThrow(IpMatchConfigError);
  });

  it(`warns once when the data is over ${DATA_MAX_AGE_DAYS} days old`, () => {
    const logger = spyLogger();
    const old = writeMmdb({ ...ipLocationDbV4, buildEpoch: new Date('2020-01-01T00:00:00Z') });
    const geo = openGeoIp({ database: old }, logger);
    expect(logger.warn).not.toHaveBeenCalled(); // nothing read yet
    geo.country('81.2.69.160');
    geo.country('211.234.0.1');
    geo.load();
    const info = geo.info();
    expect(info.buildDate).toBe('2020-01-01T00:00:00.000Z');
    expect(info.ageDays).toBeGreaterThan(DATA_MAX_AGE_DAYS);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    const [message, meta] = logger.warn.mock.calls[0]!;
    expect(message).toMatch(/built \d+ days ago, on 2020-01-01/);
    expect(meta).toMatchObject({
      code: 'IPMATCH_DATA_STALE',
      source: 'bytes',
      buildDate: '2020-01-01T00:00:00.000Z',
    });
  });

  it('does not warn about fresh data', () => {
    const logger = spyLogger();
    const fresh = writeMmdb({ ...ipLocationDbV4, buildEpoch: new Date(Date.now() - 30 * 86_400_000) });
    const geo = openGeoIp({ database: fresh }, logger);
    expect(geo.country('81.2.69.160')).toBe('GB');
    expect(geo.info().ageDays).toBe(30);
    expect(logger.warn).not.toHaveBeenCalled();
  });
});
