/**
 * A number's type as libphonenumber-js's `getNumberType()` gives it with `max` metadata, read from that metadata
 * directly: no libphonenumber-js module is loaded, so the fast path stays fast and a cold start pays nothing.
 */
import metadata from 'libphonenumber-js/metadata.max.json';
import { lastMatch } from './phone-fast.js';
import type { PhoneType } from './types.js';

// Positions in libphonenumber-js's minified metadata, version 4 (see phone-fast.ts and its METADATA.md).
const NATIONAL_PATTERN = 2;
const POSSIBLE_LENGTHS = 3;
const LEADING_DIGITS = 10;
const TYPES = 11;

/** The types in metadata order: fixed line, mobile, toll free, premium rate, personal, voicemail, UAN, pager, VoIP, shared cost. */
const FIXED_LINE = 0;
const MOBILE = 1;
const BY_POSITION: readonly PhoneType[] = [
  'fixed_line',
  'mobile',
  'toll_free',
  'premium_rate',
  'personal_number',
  'voicemail',
  'uan',
  'pager',
  'voip',
  'shared_cost',
];
/** libphonenumber-js's order of trial after fixed line: MOBILE, PREMIUM_RATE, TOLL_FREE, SHARED_COST, VOIP, PERSONAL_NUMBER, PAGER, UAN, VOICEMAIL. */
const TRIAL_ORDER = [1, 3, 2, 9, 8, 4, 7, 6, 5] as const;

interface TypeRule {
  pattern: RegExp;
  lengths: readonly number[];
}
interface Plan {
  national: RegExp;
  leadingDigits: RegExp | null;
  /**
   * By metadata position; null where the type is absent or merged into fixed line (an empty pattern): a fixed
   * line number is then FIXED_LINE_OR_MOBILE when the mobile type is null.
   */
  types: readonly (TypeRule | null)[];
}

type RawPlan = unknown[];
const plans = new Map<string, Plan | null>();
const codes = metadata.country_calling_codes as Record<string, readonly string[]>;
const countries = metadata.countries as unknown as Record<string, RawPlan>;
const nonGeographic =
  (metadata as unknown as { nonGeographic?: Record<string, RawPlan> }).nonGeographic ?? {};

/** A region's (or non-geographic code's) plan, compiled on first use; null when it has no number types. */
function planOf(key: string, raw: RawPlan | undefined): Plan | null {
  let plan = plans.get(key);
  if (plan !== undefined) return plan;
  plan = null;
  const types = raw?.[TYPES];
  if (raw && Array.isArray(types) && types.length > 0) {
    const lengths = raw[POSSIBLE_LENGTHS] as number[];
    const rules = BY_POSITION.map((_, i) => {
      const t = (types[i] || undefined) as [string, number[]?] | undefined;
      if (!t?.[0]) return null;
      return { pattern: new RegExp(`^(?:${t[0]})$`), lengths: t[1] ?? lengths };
    });
    const leading = raw[LEADING_DIGITS];
    plan = {
      national: new RegExp(`^(?:${raw[NATIONAL_PATTERN] as string})$`),
      leadingDigits: typeof leading === 'string' && leading ? new RegExp(`^(?:${leading})`) : null,
      types: rules,
    };
  }
  plans.set(key, plan);
  return plan;
}

const is = (rule: TypeRule | null, n: string) =>
  rule?.lengths.includes(n.length) === true && rule.pattern.test(n);

/** `getNumberType()` on one plan, as libphonenumber-js computes it. */
function typeIn(plan: Plan, national: string): PhoneType | null {
  if (!plan.national.test(national)) return null;
  if (is(plan.types[FIXED_LINE]!, national)) {
    if (plan.types[MOBILE] === null) return 'fixed_line_or_mobile';
    return is(plan.types[MOBILE]!, national) ? 'fixed_line_or_mobile' : 'fixed_line';
  }
  for (const i of TRIAL_ORDER) if (is(plan.types[i]!, national)) return BY_POSITION[i]!;
  return null;
}

/**
 * The type of an E.164 number, or null when it has none (no plan, or a range the metadata gives no type).
 * `country` is the region the parse chose, where the calling code is shared (+1, +44, +7); otherwise the region is
 * chosen as libphonenumber-js chooses it: the first whose leading digits match, else the first that types it.
 * A few microseconds: a handful of regular expressions, compiled once per region.
 */
export function phoneType(e164: string, country: string | null): PhoneType | null {
  // A signup stream repeats its numbers (retries, a hot number): each is matched against its patterns once while
  // its slot holds it. Keyed by the number alone, with the region it was typed for beside it.
  const slot = slotOf(e164);
  if (recentNumbers[slot] === e164 && recentCountries[slot] === country) return recentTypes[slot]!;
  const type = typeAfterParse(e164, country);
  recentNumbers[slot] = e164;
  recentCountries[slot] = country;
  recentTypes[slot] = type;
  return type;
}

/**
 * The type of an E.164 number as `phoneType` gives it, computed afresh: the reference its table of recent
 * answers is held to (test/core/phone-type.test.ts).
 */
export function phoneTypeUncached(e164: string, country: string | null): PhoneType | null {
  return typeOf(e164, country);
}

/**
 * The type of a number the fast path has just decided (phone-fast.ts's `lastMatch`): the patterns it already
 * matched, in metadata order, are not matched again. Any other number is typed afresh. Exported for the
 * property test that holds it to `phoneTypeUncached`.
 */
export function typeAfterParse(e164: string, country: string | null): PhoneType | null {
  const matched = lastMatch.position;
  if (matched < 0 || lastMatch.number !== e164 || lastMatch.country !== country) return typeOf(e164, country);
  // Mobile is the first type tried after fixed line, which did not match: no plan to look up (most signups).
  if (matched === MOBILE) return 'mobile';
  const national = lastMatch.national;
  const plan =
    country === null
      ? planOf(
          `+${e164.slice(1, e164.length - national.length)}`,
          nonGeographic[e164.slice(1, e164.length - national.length)],
        )
      : planOf(country, countries[country]);
  if (plan === null) return typeOf(e164, country);
  // The national pattern matched, and so did type `matched`; every type before it in metadata order did not.
  if (matched === FIXED_LINE) {
    if (plan.types[MOBILE] === null) return 'fixed_line_or_mobile';
    return is(plan.types[MOBILE]!, national) ? 'fixed_line_or_mobile' : 'fixed_line';
  }
  for (const i of TRIAL_ORDER) {
    if (i === matched) return BY_POSITION[i]!;
    if (i > matched && is(plan.types[i]!, national)) return BY_POSITION[i]!;
  }
  return BY_POSITION[matched]!;
}

/**
 * The types of the numbers seen last, in a direct-mapped table: a new number overwrites one slot and allocates
 * nothing, where a Map allocated an entry per new number and was cleared whole when full: a new number's type
 * costs half what it did, a repeated one about 20 ns more (bench/README.md, issue 25).
 */
const RECENT_SLOTS = 4096;
const recentNumbers: (string | undefined)[] = new Array(RECENT_SLOTS).fill(undefined);
const recentCountries: (string | null)[] = new Array(RECENT_SLOTS).fill(null);
const recentTypes: (PhoneType | null)[] = new Array(RECENT_SLOTS).fill(null);

/** A slot for an E.164 number from its last four digits, which vary most between numbers. */
function slotOf(e164: string): number {
  let h = e164.length;
  for (let i = Math.max(0, e164.length - 4); i < e164.length; i++) h = h * 31 + e164.charCodeAt(i);
  return h & (RECENT_SLOTS - 1);
}

function typeOf(e164: string, country: string | null): PhoneType | null {
  for (let len = 1; len <= 3; len++) {
    const code = e164.slice(1, 1 + len);
    const national = e164.slice(1 + len);
    // Calling codes are prefix-free: a non-geographic one (+800, +882…) has no region at all.
    if (Object.hasOwn(nonGeographic, code))
      return typeOrNull(planOf(`+${code}`, nonGeographic[code]), national);
    const regions = codes[code];
    if (regions === undefined) continue;
    if (country !== null && regions.includes(country)) {
      return typeOrNull(planOf(country, countries[country]), national);
    }
    for (const region of regions) {
      const plan = planOf(region, countries[region]);
      if (plan === null) continue;
      if (plan.leadingDigits?.test(national)) return typeIn(plan, national);
      const type = typeIn(plan, national);
      if (type !== null) return type;
    }
    return null;
  }
  return null;
}

const typeOrNull = (plan: Plan | null, national: string) => (plan === null ? null : typeIn(plan, national));
