/** Phone parsing: the fast path first, libphonenumber-js's full parser (loaded on first need) after, with an LRU. */
import type { CountryCode } from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/metadata.max.json';
import { LRUCache } from 'lru-cache';
import * as z from 'zod/mini';
import { onlyDigitsAfterPlus, parseCleanFast } from './phone-fast.js';
import type { ParsedPhone } from './provider.js';
import { parseOptions } from './validate.js';

export interface PhoneParserOptions {
  /**
   * How many parsed numbers (and rejected strings) the full parse leaves in an LRU; the fast path's answers are
   * not kept, being cheaper to recompute. Default 10_000.
   */
  max?: number;
}

/**
 * Parses a raw phone string; null when it is not a plausible phone number (`phone_invalid`). Throws
 * PhoneParserLoading for a number only the full parser decides, until that is loaded (the core waits for it).
 */
export type PhoneParser = (raw: string, defaultCountry: string | undefined) => ParsedPhone | null;

/**
 * Whether libphonenumber-js knows `code` as a region ('GB', 'US'), as its `isSupportedCountry` answers, without
 * loading the `libphonenumber-js/max` entry point for it: a cold start pays for every module imported.
 */
export function isSupportedRegion(code: string): boolean {
  return Object.hasOwn(metadata.countries, code);
}

/** Longer input (after trimming) is rejected before any parsing. */
export const MAX_PHONE_LENGTH = 64;

// ASCII digits, space and + - ( ) . / only: letters, full-width digits, control characters and emoji never
// reach libphonenumber-js, which would otherwise read some of them (full-width and Arabic-Indic digits) as digits.
const ALLOWED = /^[0-9 +\-()./]+$/;
// 00 is the international prefix nearly everywhere, so it is read as + whatever the default country.
const LEADING_00 = /^([ \-()./]*)00/;

/** The trimmed input with a leading 00 read as +, or null when it cannot be a phone number at all. */
function clean(raw: string): string | null {
  const text = raw.trim();
  if (text.length === 0 || text.length > MAX_PHONE_LENGTH) return null;
  // E.164 as typed passes ALLOWED and is returned as it is: a scan of its digits instead of the pattern.
  if (text.charCodeAt(0) === 43 /* + */ && onlyDigitsAfterPlus(text)) return text;
  if (!ALLOWED.test(text)) return null;
  return text.charCodeAt(0) === 43 /* + */ ? text : text.replace(LEADING_00, '$1+');
}

type FullParse = typeof import('./phone-full.js').parsePhoneNumberFromString;

/** libphonenumber-js's parser, once loaded. */
let fullParse: FullParse | undefined;
let loading: Promise<void> | undefined;

/**
 * Thrown by a parse that needs libphonenumber-js's full parser before it is loaded. The core waits for `loaded`
 * and decides again; `ready()` loads it up front.
 */
export class PhoneParserLoading extends Error {
  constructor(readonly loaded: Promise<void>) {
    super('ipmatch: the full phone parser is loading; parse again once `loaded` resolves');
    this.name = 'PhoneParserLoading';
  }
}

/**
 * Loads libphonenumber-js's full parser, once. It is not imported with the rest: the fast path decides about
 * 99.5% of numbers without it, and its ~70 modules were a third of a cold start's import (bench/cold-start.ts).
 * A failed load is tried again on the next call.
 */
export function loadFullParser(): Promise<void> {
  loading ??= import('./phone-full.js').then(
    (lib) => {
      fullParse = lib.parsePhoneNumberFromString;
    },
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

function parseCleanFull(text: string, defaultCountry: string | undefined): ParsedPhone | null {
  if (fullParse === undefined) throw new PhoneParserLoading(loadFullParser());
  const phone = fullParse(text, { defaultCountry: defaultCountry as CountryCode }, metadata);
  if (!phone?.isPossible()) return null;
  // A possible number outside every known range has no region of its own: the calling code's main region
  // (first of the possible countries) is what a carrier lookup answers for it, e.g. GB for Ofcom's drama range.
  const country = phone.isNonGeographic() ? null : (phone.country ?? phone.getPossibleCountries()[0] ?? null);
  return Object.freeze({ number: phone.number, country, valid: phone.isValid() });
}

/**
 * The full libphonenumber-js parse (about 65 µs), without cache or fast path: the reference the fast path matches.
 * Throws PhoneParserLoading until `loadFullParser()` has resolved.
 */
export function parsePhoneFull(raw: string, defaultCountry: string | undefined): ParsedPhone | null {
  const text = clean(raw);
  return text === null ? null : parseCleanFull(text, defaultCountry);
}

/**
 * The fast path alone: decides an international number from precompiled metadata, shared calling codes
 * included (+1, +44, +7…). undefined when it cannot decide and the full parse must.
 * Exported so that tests and the bench can hold it against `parsePhoneFull`.
 */
export function parsePhoneFast(raw: string): ParsedPhone | null | undefined {
  const text = clean(raw);
  return text === null ? null : parseCleanFast(text);
}

const optionsSchema = z.strictObject({
  max: z.optional(z.number().check(z.int(), z.positive())),
});

// lru-cache holds no null values; a frozen marker stands for "not a possible number".
const REJECTED = Object.freeze({ rejected: true });

/** Slots of the table of recent fast-path answers: a power of two. */
const RECENT_SLOTS = 512;

/** A slot for `raw` from its last characters, which are a number's most varied digits. */
function slotOf(raw: string): number {
  let h = raw.length;
  for (let i = Math.max(0, raw.length - 4); i < raw.length; i++) h = h * 31 + raw.charCodeAt(i);
  return h & (RECENT_SLOTS - 1);
}

/**
 * A phone parser with a fast path on the calling code (most international numbers skip the full
 * libphonenumber-js parse) and an LRU for the rest (national formats, prefixes after the calling code), so that
 * a repeated number costs a map lookup. Results are frozen and shared between calls.
 *
 * The fast path's answers of the last few hundred inputs stay in a direct-mapped table, keyed by the raw
 * string: a repeated number (a retry, a busy route's regulars) then costs one string comparison instead of the
 * cleaning and the regular expressions, which are most of a warm check. A new number overwrites one slot and
 * allocates nothing, where an LRU insert allocates and evicts (and costs a cold stream more than it saves).
 */
export function createPhoneParser(options?: PhoneParserOptions): PhoneParser {
  const { max = 10_000 } = parseOptions(optionsSchema, options, 'phone parser options');
  const cache = new LRUCache<string, ParsedPhone | typeof REJECTED>({ max });
  const recentInputs: (string | undefined)[] = new Array(RECENT_SLOTS).fill(undefined);
  const recentAnswers: (ParsedPhone | null)[] = new Array(RECENT_SLOTS).fill(null);
  return function parsePhone(raw, defaultCountry) {
    const slot = slotOf(raw);
    if (recentInputs[slot] === raw) return recentAnswers[slot]!;
    const text = clean(raw);
    if (text === null) return null;
    // An international number reads the same under every default country, so it takes one slot, not one per
    // country. Cleaned text holds no '|', so the two kinds of key cannot collide.
    const key = text.charCodeAt(0) === 43 /* + */ ? text : `${defaultCountry ?? ''}|${text}`;
    // The fast path comes first and its answers stay out of the LRU: on a cold stream an insert (and the GC of
    // what it evicts) costs more than deciding the number again (bench/phone.ts), so only full parses are kept.
    const fast = parseCleanFast(text);
    if (fast !== undefined) {
      recentInputs[slot] = raw;
      recentAnswers[slot] = fast;
      return fast;
    }
    const hit = cache.get(key);
    if (hit !== undefined) return hit === REJECTED ? null : (hit as ParsedPhone);
    const parsed = parseCleanFull(text, defaultCountry);
    cache.set(key, parsed ?? REJECTED);
    return parsed;
  };
}
