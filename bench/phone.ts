/**
 * Parses per second of the full libphonenumber-js parse, the calling-code fast path, and the cached parser on a
 * cold stream, over 10 000 distinct numbers (mobile examples varied in their last four digits), twice: every
 * region alike, then a signup-like mix that is half +1 (mostly US and CA) and a quarter +44 (mostly GB).
 *
 *   npx tsx bench/phone.ts
 */
import examples from 'libphonenumber-js/examples.mobile.json';
import metadata from 'libphonenumber-js/metadata.max.json';
import { createPhoneParser, loadFullParser, parsePhoneFast, parsePhoneFull } from '../src/core/phone.js';

// The full parser loads on first need (phone.ts); the reference figures need it from the start.
await loadFullParser();

const COUNT = 10_000;
const ROUNDS = 7;

const plans = metadata.countries as Record<string, unknown[]>;
const e164 = (region: string) =>
  `+${plans[region]![0] as string}${(examples as Record<string, string>)[region]!}`;
const regionsOf = (code: string) => (metadata.country_calling_codes as Record<string, string[]>)[code]!;
const repeat = (region: string, times: number) => Array.from({ length: times }, () => e164(region));
const everyRegion = Object.keys(examples).map(e164);
const plusOne = [...repeat('US', 6), ...repeat('CA', 2), ...regionsOf('1').slice(2).map(e164)];
const plusFortyFour = [...repeat('GB', 4), ...regionsOf('44').slice(1).map(e164)];
const world = everyRegion.filter((n) => !n.startsWith('+1') && !n.startsWith('+44'));

/** COUNT distinct numbers: base i (cycling through the lists in turn) with a last four digits that i alone sets. */
function stream(lists: readonly (readonly string[])[]): string[] {
  const numbers: string[] = [];
  for (let i = 0; numbers.length < COUNT; i++) {
    const list = lists[i % lists.length]!;
    const base = list[Math.floor(i / lists.length) % list.length]!;
    const tail = String((i * 7919) % 10_000).padStart(4, '0');
    numbers.push(base.slice(0, -4) + tail);
  }
  if (new Set(numbers).size !== COUNT) throw new Error('numbers are not distinct');
  return numbers;
}

function rate(run: () => void): number {
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    run();
    rates.push(COUNT / (Number(process.hrtime.bigint() - start) / 1e9));
  }
  return rates.sort((a, b) => a - b)[ROUNDS >> 1]!;
}

const fmt = (x: number) => `${Math.round(x).toLocaleString('en')}/s`;

function measure(name: string, numbers: readonly string[]) {
  const decided = numbers.filter((n) => parsePhoneFast(n) !== undefined).length;
  const full = rate(() => {
    for (const n of numbers) parsePhoneFull(n, undefined);
  });
  const fast = rate(() => {
    for (const n of numbers) parsePhoneFast(n);
  });
  // A fresh parser each round, so that every number is a cache miss: the cold signup stream.
  const cold = rate(() => {
    const parse = createPhoneParser();
    for (const n of numbers) parse(n, undefined);
  });
  const hotParser = createPhoneParser({ max: COUNT });
  const hot = rate(() => {
    for (const n of numbers) hotParser(n, undefined);
  });
  console.log(`${name}: ${COUNT} distinct, fast path decides ${((100 * decided) / COUNT).toFixed(1)}%`);
  console.log(`  full parse:                ${fmt(full)}`);
  console.log(`  fast path alone:           ${fmt(fast)}`);
  console.log(`  parser, cold (LRU misses): ${fmt(cold)}`);
  console.log(`  parser, hot (repeats):     ${fmt(hot)}`);
}

measure('every region alike', stream([everyRegion]));
measure('half +1, a quarter +44', stream([plusOne, plusOne, plusFortyFour, world]));
