/** The phone fast path: a calling code that maps to one region decides without libphonenumber-js's parser. */
import metadata from 'libphonenumber-js/metadata.max.json';
import type { ParsedPhone } from './provider.js';

/** One region's numbering plan (or a non-geographic plan, country null), compiled once. */
interface Region {
  country: string | null;
  lengths: readonly number[];
  nationalPattern: RegExp;
  /** When set, libphonenumber-js picks the region on these leading digits alone, without its number types. */
  leadingDigits: RegExp | null;
  /** null when the plan has no number types, so that libphonenumber-js validates by the national pattern alone. */
  types: readonly TypeRule[] | null;
}

/** One number type of a region; `position` is its place in the metadata (0 fixed line, 1 mobile…). */
interface TypeRule {
  pattern: RegExp;
  lengths: readonly number[];
  position: number;
}

/** Every region of one calling code, in metadata order: the first is the code's main region. */
interface Plan {
  callingCode: string;
  /** The main region's national prefix (or carrier code) pattern: a number starting with it goes to the full parse. */
  prefix: RegExp | null;
  regions: readonly Region[];
}

// Positions in libphonenumber-js's minified metadata, version 4 (see its METADATA.md). Any other version, or a
// plan of another shape, turns the fast path off for that code rather than risk an answer the full parse would not give.
const CALLING_CODE = 0;
const NATIONAL_PATTERN = 2;
const POSSIBLE_LENGTHS = 3;
const NATIONAL_PREFIX = 5;
const NATIONAL_PREFIX_FOR_PARSING = 7;
const LEADING_DIGITS = 10;
const TYPES = 11;
// fixed line, mobile, toll free, premium rate, personal, voicemail, UAN, pager, VoIP, shared cost: the ten
// types libphonenumber-js tries when it validates.
const TYPE_COUNT = 10;

const isLengths = (v: unknown): v is number[] => Array.isArray(v) && v.every((n) => Number.isInteger(n));
const whole = (pattern: string) => new RegExp(`^(?:${pattern})$`);
const start = (pattern: string) => new RegExp(`^(?:${pattern})`);

function compileRegion(raw: unknown, callingCode: string, country: string | null): Region | null {
  if (!Array.isArray(raw) || raw[CALLING_CODE] !== callingCode) return null;
  const pattern: unknown = raw[NATIONAL_PATTERN];
  const lengths: unknown = raw[POSSIBLE_LENGTHS];
  const leadingDigits: unknown = raw[LEADING_DIGITS];
  const types: unknown = raw[TYPES];
  const usable =
    typeof pattern === 'string' &&
    isLengths(lengths) &&
    (!leadingDigits || typeof leadingDigits === 'string');
  if (!usable) return null;
  let compiled: Region['types'] = null;
  if (Array.isArray(types) && types.length > 0) {
    const list: TypeRule[] = [];
    const typeList = types.slice(0, TYPE_COUNT) as unknown[];
    for (let position = 0; position < typeList.length; position++) {
      const type = typeList[position];
      if (!type) continue;
      const usableType =
        Array.isArray(type) && typeof type[0] === 'string' && (!type[1] || isLengths(type[1]));
      if (!usableType) return null;
      // An empty pattern marks a type merged into fixed line; libphonenumber-js skips it. A type without
      // lengths of its own takes the plan's.
      if (type[0] !== '') list.push({ pattern: whole(type[0]), lengths: type[1] || lengths, position });
    }
    compiled = list;
  } else if (types) {
    return null;
  }
  return {
    country,
    lengths,
    nationalPattern: whole(pattern),
    leadingDigits: typeof leadingDigits === 'string' ? start(leadingDigits) : null,
    types: compiled,
  };
}

function compilePrefix(raw: unknown): RegExp | null | undefined {
  if (!Array.isArray(raw)) return undefined;
  const prefix: unknown = raw[NATIONAL_PREFIX_FOR_PARSING] || raw[NATIONAL_PREFIX];
  if (!prefix) return null;
  return typeof prefix === 'string' ? start(prefix) : undefined;
}

/** undefined: not a calling code; null: a calling code the fast path leaves to the full parse (unusual metadata). */
function planFor(callingCode: string): Plan | null | undefined {
  if (metadata.version !== 4) return null;
  const byCode = metadata.country_calling_codes as Record<string, readonly string[] | undefined>;
  const nonGeographic = (metadata.nonGeographic as Record<string, unknown>)[callingCode];
  const names = byCode[callingCode];
  // A three-character "region" is 001, libphonenumber-js's marker for a non-geographic code.
  const geographic = names !== undefined && names.length > 0 && names.every((name) => name.length === 2);
  if (!geographic) {
    if (names === undefined && nonGeographic === undefined) return undefined;
    if (names !== undefined && (names.length !== 1 || names[0]!.length !== 3)) return null;
    const region = compileRegion(nonGeographic, callingCode, null);
    const prefix = compilePrefix(nonGeographic);
    return region === null || prefix === undefined ? null : { callingCode, prefix, regions: [region] };
  }
  const countries = metadata.countries as Record<string, unknown>;
  const regions: Region[] = [];
  for (const name of names) {
    const region = compileRegion(countries[name], callingCode, name);
    if (region === null) return null;
    regions.push(region);
  }
  // The full parse strips a national prefix by the main region's rules, before it knows the region.
  const prefix = compilePrefix(countries[names[0]!]);
  return prefix === undefined ? null : { callingCode, prefix, regions };
}

/** Stands in `plans` for a prefix not yet looked at. */
const UNSEEN = 0;
/**
 * Each one- to three-digit prefix's plan, indexed by its digits read as a number plus 1000 × its length (so
 * that '1', '01' and '001' differ): the lookup of a calling code allocates no string and hashes nothing.
 */
const plans: (Plan | null | undefined | typeof UNSEEN)[] = new Array(4000).fill(UNSEEN);

function cachedPlan(digits: string, size: number, value: number): Plan | null | undefined {
  const index = size * 1000 + value;
  let plan = plans[index] as Plan | null | undefined | typeof UNSEEN;
  if (plan === UNSEEN) {
    plan = planFor(digits.slice(0, size));
    plans[index] = plan;
  }
  return plan;
}

/**
 * What the last number the fast path decided matched, for phone-type.ts: its first number type in metadata
 * order (`position`, -1 when none was tried), so that its type is not matched against the same patterns again.
 * Written in place, so that a parse allocates nothing for it.
 */
export const lastMatch = { number: '', country: null as string | null, national: '', position: -1 };

/** The metadata position of the last type `hasType` matched, -1 when none. */
let matchedPosition = -1;

/** libphonenumber-js's getNumberType: a match on the national pattern and on one number type. */
function hasType(region: Region, national: string): boolean {
  matchedPosition = -1;
  if (region.types === null || !region.nationalPattern.test(national)) return false;
  for (const t of region.types) {
    if (t.lengths.includes(national.length) && t.pattern.test(national)) {
      matchedPosition = t.position;
      return true;
    }
  }
  return false;
}

/**
 * libphonenumber-js's getCountryByNationalNumber: the first region, in metadata order, whose leading digits
 * start the number or, for a region without leading digits, one of whose number types matches it.
 */
function regionOf(plan: Plan, national: string): Region | undefined {
  const { regions } = plan;
  if (regions.length === 1) return regions[0];
  for (const region of regions) {
    if (region.leadingDigits !== null ? region.leadingDigits.test(national) : hasType(region, national)) {
      return region;
    }
  }
  return undefined;
}

/** `e164`: the input itself when it is already `+` and digits only (as typed, or as most forms send it), else null. */
function decide(plan: Plan, national: string, e164: string | null): ParsedPhone | null | undefined {
  const length = national.length;
  // Outside libphonenumber-js's 2–17 digit bounds, or with a national prefix after the calling code, the full
  // parse has more rules to apply (length errors, prefix stripping): leave those to it.
  if (length < 2 || length > 17 || plan.prefix?.test(national)) return undefined;
  // No region of its own: the full parse then checks length and validity against the main region, and names
  // the first region the length is possible in, which is the main region again since the number is possible.
  const found = regionOf(plan, national);
  const region = found ?? plan.regions[0]!;
  if (!region.lengths.includes(length)) return null;
  // Among several regions, one without leading digits is only ever chosen because a number type of its matched:
  // the number is valid there (that is what hasType tests), so its types need not be matched again.
  const typed = found !== undefined && plan.regions.length > 1 && found.leadingDigits === null;
  if (!typed) matchedPosition = -1;
  const valid =
    typed || (region.types === null ? region.nationalPattern.test(national) : hasType(region, national));
  // E.164 as typed is the number already: no new string to build (and flatten when it is hashed).
  const number = e164 ?? `+${plan.callingCode}${national}`;
  lastMatch.number = number;
  lastMatch.country = region.country;
  lastMatch.national = national;
  lastMatch.position = valid ? matchedPosition : -1;
  return Object.freeze({ number, country: region.country, valid });
}

const NON_DIGITS = /\D/g;

/**
 * Decides a cleaned international number (see phone.ts) from precompiled metadata, exactly as
 * libphonenumber-js's full parse would; undefined when it cannot and the full parse must.
 */
export function parseCleanFast(text: string): ParsedPhone | null | undefined {
  if (text.charCodeAt(0) !== 43 /* + */ || text.indexOf('+', 1) !== -1) return undefined;
  // E.164 as typed ('+447400123456') has nothing to strip: no new string for it.
  const clean = onlyDigitsAfterPlus(text);
  const digits = clean ? text.slice(1) : text.replace(NON_DIGITS, '');
  if (digits.length < 3 || digits.charCodeAt(0) === 48 /* 0 */) return undefined;
  // Calling codes are one to three digits; like libphonenumber-js, take the first prefix that is one.
  let value = 0;
  for (let size = 1; size <= 3; size++) {
    value = value * 10 + (digits.charCodeAt(size - 1) - 48);
    const plan = cachedPlan(digits, size, value);
    if (plan === undefined) continue;
    if (plan === null) return undefined;
    return decide(plan, digits.slice(size), clean ? text : null);
  }
  return undefined;
}

/** Whether every character after the leading '+' is an ASCII digit. */
export function onlyDigitsAfterPlus(text: string): boolean {
  for (let i = 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
