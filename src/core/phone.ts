import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/metadata.max.json';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { ParsedPhone } from './provider.js';
import { parseOptions } from './validate.js';

export interface PhoneParserOptions {
  /** How many parsed numbers (and rejected strings) are kept in an LRU. Default 10_000. */
  max?: number;
}

/** Parses a raw phone string; null when it is not a plausible phone number (`phone_invalid`). */
export type PhoneParser = (raw: string, defaultCountry: string | undefined) => ParsedPhone | null;

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
  if (text.length === 0 || text.length > MAX_PHONE_LENGTH || !ALLOWED.test(text)) return null;
  return text.replace(LEADING_00, '$1+');
}

function parseCleanFull(text: string, defaultCountry: string | undefined): ParsedPhone | null {
  const phone = parsePhoneNumberFromString(text, { defaultCountry: defaultCountry as CountryCode }, metadata);
  if (!phone?.isPossible()) return null;
  // A possible number outside every known range has no region of its own: the calling code's main region
  // (first of the possible countries) is what a carrier lookup answers for it, e.g. GB for Ofcom's drama range.
  const country = phone.isNonGeographic() ? null : (phone.country ?? phone.getPossibleCountries()[0] ?? null);
  return Object.freeze({ number: phone.number, country, valid: phone.isValid() });
}

/** The full libphonenumber-js parse (about 65 µs), without cache or fast path: the reference the fast path matches. */
export function parsePhoneFull(raw: string, defaultCountry: string | undefined): ParsedPhone | null {
  const text = clean(raw);
  return text === null ? null : parseCleanFull(text, defaultCountry);
}

/** What the fast path needs of one calling code's only numbering plan, compiled once. */
interface Plan {
  callingCode: string;
  country: string | null;
  lengths: readonly number[];
  nationalPattern: RegExp;
  /** National prefix (or carrier code) pattern: an international number starting with it goes to the full parse. */
  prefix: RegExp | null;
  /** null when the plan has no number types, so that libphonenumber-js validates by the national pattern alone. */
  types: readonly { pattern: RegExp; lengths: readonly number[] | null }[] | null;
}

// Positions in libphonenumber-js's minified metadata, version 4 (see its METADATA.md). Any other version, or a
// plan of another shape, turns the fast path off for that code rather than risk an answer the full parse would not give.
const CALLING_CODE = 0;
const NATIONAL_PATTERN = 2;
const POSSIBLE_LENGTHS = 3;
const NATIONAL_PREFIX = 5;
const NATIONAL_PREFIX_FOR_PARSING = 7;
const TYPES = 11;
// fixed line, mobile, toll free, premium rate, personal, voicemail, UAN, pager, VoIP, shared cost: the ten
// types libphonenumber-js tries when it validates.
const TYPE_COUNT = 10;

const isLengths = (v: unknown): v is number[] => Array.isArray(v) && v.every((n) => Number.isInteger(n));
const whole = (pattern: string) => new RegExp(`^(?:${pattern})$`);

function compile(raw: unknown, callingCode: string, country: string | null): Plan | null {
  if (!Array.isArray(raw) || raw[CALLING_CODE] !== callingCode) return null;
  const pattern: unknown = raw[NATIONAL_PATTERN];
  const lengths: unknown = raw[POSSIBLE_LENGTHS];
  const prefix: unknown = raw[NATIONAL_PREFIX_FOR_PARSING] || raw[NATIONAL_PREFIX];
  const types: unknown = raw[TYPES];
  const usable = typeof pattern === 'string' && isLengths(lengths) && (!prefix || typeof prefix === 'string');
  if (!usable) return null;
  let compiled: Plan['types'] = null;
  if (Array.isArray(types) && types.length > 0) {
    const list: { pattern: RegExp; lengths: readonly number[] | null }[] = [];
    for (const type of types.slice(0, TYPE_COUNT) as unknown[]) {
      if (!type) continue;
      const usableType =
        Array.isArray(type) && typeof type[0] === 'string' && (!type[1] || isLengths(type[1]));
      if (!usableType) return null;
      // An empty pattern marks a type merged into fixed line; libphonenumber-js skips it.
      if (type[0] !== '') list.push({ pattern: whole(type[0]), lengths: type[1] || null });
    }
    compiled = list;
  } else if (types) {
    return null;
  }
  return {
    callingCode,
    country,
    lengths,
    nationalPattern: whole(pattern),
    prefix: typeof prefix === 'string' ? new RegExp(`^(?:${prefix})`) : null,
    types: compiled,
  };
}

/** undefined: not a calling code; null: a calling code the fast path leaves to the full parse (shared, unusual). */
function planFor(callingCode: string): Plan | null | undefined {
  if (metadata.version !== 4) return null;
  const byCode = metadata.country_calling_codes as Record<string, readonly string[] | undefined>;
  const regions = byCode[callingCode];
  const nonGeographic = (metadata.nonGeographic as Record<string, unknown>)[callingCode];
  if (regions === undefined) {
    return nonGeographic === undefined ? undefined : compile(nonGeographic, callingCode, null);
  }
  if (regions.length !== 1) return null;
  const region = regions[0]!;
  // A three-character "region" is 001, libphonenumber-js's marker for a non-geographic code.
  if (region.length === 3) return compile(nonGeographic, callingCode, null);
  return compile((metadata.countries as Record<string, unknown>)[region], callingCode, region);
}

const plans = new Map<string, Plan | null | undefined>();

function cachedPlan(callingCode: string): Plan | null | undefined {
  if (!plans.has(callingCode)) plans.set(callingCode, planFor(callingCode));
  return plans.get(callingCode);
}

const NON_DIGITS = /\D/g;

function parseCleanFast(text: string): ParsedPhone | null | undefined {
  if (text.charCodeAt(0) !== 43 /* + */ || text.indexOf('+', 1) !== -1) return undefined;
  const digits = text.replace(NON_DIGITS, '');
  if (digits.length < 3 || digits.charCodeAt(0) === 48 /* 0 */) return undefined;
  // Calling codes are one to three digits; like libphonenumber-js, take the first prefix that is one.
  for (let size = 1; size <= 3; size++) {
    const plan = cachedPlan(digits.slice(0, size));
    if (plan === undefined) continue;
    if (plan === null) return undefined;
    return decide(plan, digits.slice(size));
  }
  return undefined;
}

function decide(plan: Plan, national: string): ParsedPhone | null | undefined {
  const length = national.length;
  // Outside libphonenumber-js's 2–17 digit bounds, or with a national prefix after the calling code, the full
  // parse has more rules to apply (length errors, prefix stripping): leave those to it.
  if (length < 2 || length > 17 || plan.prefix?.test(national)) return undefined;
  if (!plan.lengths.includes(length)) return null;
  const valid =
    plan.nationalPattern.test(national) &&
    (plan.types === null ||
      plan.types.some((t) => (t.lengths === null || t.lengths.includes(length)) && t.pattern.test(national)));
  return Object.freeze({ number: `+${plan.callingCode}${national}`, country: plan.country, valid });
}

/**
 * The fast path alone: decides an international number whose calling code has one region (or one
 * non-geographic plan) from precompiled metadata. undefined when it cannot decide and the full parse must.
 * Exported so that tests and the bench can hold it against `parsePhoneFull`.
 */
export function parsePhoneFast(raw: string): ParsedPhone | null | undefined {
  const text = clean(raw);
  return text === null ? null : parseCleanFast(text);
}

const optionsSchema = z.strictObject({
  max: z.number().int().positive().optional(),
});

// lru-cache holds no null values; a frozen marker stands for "not a possible number".
const REJECTED = Object.freeze({ rejected: true });

/**
 * A phone parser with an LRU in front (hot numbers cost a map lookup) and a fast path on the calling code
 * (most new numbers skip the full libphonenumber-js parse). Results are frozen and shared between calls.
 */
export function createPhoneParser(options?: PhoneParserOptions): PhoneParser {
  const { max = 10_000 } = parseOptions(optionsSchema, options, 'phone parser options');
  const cache = new LRUCache<string, ParsedPhone | typeof REJECTED>({ max });
  return function parsePhone(raw, defaultCountry) {
    const text = clean(raw);
    if (text === null) return null;
    // An international number reads the same under every default country, so it takes one slot, not one per
    // country. Cleaned text holds no '|', so the two kinds of key cannot collide.
    const key = text.charCodeAt(0) === 43 /* + */ ? text : `${defaultCountry ?? ''}|${text}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit === REJECTED ? null : (hit as ParsedPhone);
    const fast = parseCleanFast(text);
    const parsed = fast === undefined ? parseCleanFull(text, defaultCountry) : fast;
    cache.set(key, parsed ?? REJECTED);
    return parsed;
  };
}
