/**
 * Parses per second of the full libphonenumber-js parse, the calling-code fast path, and the cached parser on a
 * cold stream, over 10 000 distinct numbers (every region's mobile example, varied in its last four digits).
 *
 *   npx tsx bench/phone.ts
 */
import examples from 'libphonenumber-js/examples.mobile.json';
import metadata from 'libphonenumber-js/metadata.max.json';
import { createPhoneParser, parsePhoneFast, parsePhoneFull } from '../src/core/phone.js';

const COUNT = 10_000;
const ROUNDS = 7;

const plans = metadata.countries as Record<string, unknown[]>;
const bases = Object.entries(examples as Record<string, string>).map(
  ([region, national]) => `+${plans[region]![0] as string}${national}`,
);
const numbers: string[] = [];
for (let i = 0; numbers.length < COUNT; i++) {
  const base = bases[i % bases.length]!;
  const tail = String((i * 7919) % 10_000).padStart(4, '0');
  numbers.push(base.slice(0, -4) + tail);
}
if (new Set(numbers).size !== COUNT) throw new Error('numbers are not distinct');

function rate(run: () => void): number {
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    run();
    rates.push(COUNT / (Number(process.hrtime.bigint() - start) / 1e9));
  }
  return rates.sort((a, b) => a - b)[ROUNDS >> 1]!;
}

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

const fmt = (x: number) => `${Math.round(x).toLocaleString('en')}/s`;
console.log(`numbers: ${COUNT} distinct, fast path decides ${((100 * decided) / COUNT).toFixed(1)}%`);
console.log(`full parse:                ${fmt(full)}`);
console.log(`fast path alone:           ${fmt(fast)}`);
console.log(`parser, cold (LRU misses): ${fmt(cold)}`);
console.log(`parser, hot (LRU hits):    ${fmt(hot)}`);
