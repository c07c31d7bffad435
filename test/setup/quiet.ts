/** Vitest setup: a test that prints to console.warn / console.error without capturing it fails, so `npm test` stays quiet. */
import { format } from 'node:util';
import { afterEach, beforeEach } from 'vitest';

/**
 * The bundled GeoIP snapshot is older than `maxAgeDays`, so the first default provider of each test file's
 * process says so, once, in one line (test/quiet.test.ts holds that). That line is known and expected here.
 */
export const BUNDLED_STALE =
  /^ipmatch: the GeoIP data \(geo-whois-asn-country \(ip-location-db, CC BY 4\.0 NRO\)\) was built \d+ days ago[^\n]*\(code=IPMATCH_DATA_STALE[^\n]*\)$/;

let running = false;
const stray: string[] = [];

for (const level of ['warn', 'error'] as const) {
  const print = console[level];
  console[level] = (...args: unknown[]) => {
    const text = format(...args);
    if (BUNDLED_STALE.test(text)) return;
    if (running) stray.push(`console.${level}: ${text}`);
    print.apply(console, args);
  };
}

beforeEach(() => {
  running = true;
  stray.length = 0;
});

afterEach(() => {
  running = false;
  if (stray.length === 0) return;
  const lines = stray.splice(0);
  throw new Error(
    `this test printed ${lines.length} line(s) to stderr that nobody captured. Give ipmatch a logger ` +
      '(test/helpers/logger.ts memoryLogger(), or { warn() {}, error() {} }) and assert what it logged, or ' +
      `vi.spyOn(console, 'warn').mockImplementation(…):\n${lines.join('\n')}`,
  );
});
