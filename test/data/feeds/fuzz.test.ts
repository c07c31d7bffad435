import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FEED_PARSERS, type FeedResult, MIN_PREFIX, parseAsnTable } from '../../../src/data/feeds/index.js';

/** No range wider than MIN_PREFIX allows: the half-the-Internet line never gets through. */
function sane(result: FeedResult): void {
  for (const range of result.ranges) {
    const width = range.family === 4 ? 32 : 128;
    expect(range.first <= range.last).toBe(true);
    expect(range.last - range.first < 1n << BigInt(width - MIN_PREFIX[range.family])).toBe(true);
    expect(range.last < 1n << BigInt(width)).toBe(true);
  }
  expect(Number.isInteger(result.skipped) && result.skipped >= 0).toBe(true);
}

const octet = fc.integer({ min: -5, max: 300 });
const v4ish = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const v6ish = fc
  .array(
    fc.integer({ min: 0, max: 0x1ffff }).map((n) => n.toString(16)),
    { minLength: 1, maxLength: 9 },
  )
  .map((g) => g.join(':'));
const prefix = fc
  .tuple(
    fc.oneof(v4ish, v6ish, fc.string({ maxLength: 12 })),
    fc.option(fc.oneof(fc.integer({ min: -1, max: 140 }).map(String), fc.string({ maxLength: 4 }))),
  )
  .map(([a, len]) => (len === null ? a : `${a}/${len}`));
/** Lines that look like a feed's and often are not. */
const line = fc.oneof(
  prefix,
  fc.tuple(prefix, fc.string({ maxLength: 6 })).map(([p, c]) => `${p},${c},,,`),
  fc.string({ maxLength: 30 }),
);
const text = fc.array(line, { maxLength: 30 }).map((l) => l.join('\n'));

/** JSON in each publisher's shape, with junk where the prefixes go, and junk documents. */
const junk = fc.oneof(prefix, fc.anything());
const json = fc.oneof(
  fc
    .array(fc.record({ ip_prefix: junk }), { maxLength: 8 })
    .map((p) => ({ prefixes: p, ipv6_prefixes: [{ ipv6_prefix: '::/0' }] })),
  fc
    .array(fc.record({ ipv4Prefix: junk, ipv6Prefix: junk }, { requiredKeys: [] }), { maxLength: 8 })
    .map((p) => ({ prefixes: p })),
  fc
    .array(fc.record({ cidrs: fc.oneof(fc.array(fc.record({ cidr: junk })), fc.anything()) }), {
      maxLength: 4,
    })
    .map((g) => ({ regions: g })),
  fc
    .array(
      fc.record({
        name: fc.constantFrom('AzureCloud', 'AzureCloud.x', 'Storage'),
        properties: fc.record({ addressPrefixes: fc.oneof(fc.array(junk), fc.anything()) }),
      }),
      { maxLength: 4 },
    )
    .map((v) => ({ values: v })),
  fc.anything(),
);
const documents = fc.oneof(
  text,
  json.map((j) => JSON.stringify(j) ?? 'undefined'),
  fc.string(),
);

describe('every feed parser on bad input', () => {
  for (const [name, parse] of Object.entries(FEED_PARSERS)) {
    it(`${name}: never throws, never yields a range wider than /${MIN_PREFIX[4]} (v4) or /${MIN_PREFIX[6]} (v6)`, () => {
      fc.assert(
        fc.property(documents, (doc) => sane(parse(doc))),
        { numRuns: 300 },
      );
    });
  }

  it('text feeds count every content line as a range or a skip', () => {
    for (const name of ['digitalocean', 'tor', 'icloud-relay', 'vpn'] as const) {
      fc.assert(
        fc.property(
          fc.array(
            line.filter((l) => !/[#\r\n]/.test(l) && l.trim().length > 0),
            { maxLength: 20 },
          ),
          (lines) => {
            const out = FEED_PARSERS[name](lines.join('\n'));
            expect(out.ranges.length + out.skipped).toBe(lines.length);
          },
        ),
        { numRuns: 100 },
      );
    }
  });

  it('a half-the-Internet entry is a counted skip in every format', () => {
    const wide = ['0.0.0.0/1', '128.0.0.0/7', '::/0', '2000::/3', '2001::/18'];
    expect(FEED_PARSERS.vpn(wide.join('\n'))).toMatchObject({ ranges: [], skipped: 5 });
    expect(FEED_PARSERS.aws(JSON.stringify({ prefixes: wide.map((p) => ({ ip_prefix: p })) }))).toMatchObject(
      { ranges: [], skipped: 5 },
    );
    expect(
      parseAsnTable(
        '0.0.0.0,127.255.255.255,24940,X\n2000::,2fff::,24940,X\n',
        new Map([[24940, 'hetzner']]),
      ),
    ).toMatchObject({ ranges: [], skipped: 2 });
  });

  it('the IP→ASN table reader survives junk rows', () => {
    const networks = new Map([[1, 'x']]);
    const row = fc
      .tuple(prefix, prefix, fc.constantFrom('1', '01', '1x', ''), fc.string({ maxLength: 8 }))
      .map((f) => f.join(','));
    fc.assert(
      fc.property(fc.array(row, { maxLength: 20 }), (rows) => sane(parseAsnTable(rows.join('\n'), networks))),
    );
  });
});
