/** The `phoneCountries` option's schema: ISO 3166-1 alpha-2 lists, with a did-you-mean for the usual mistakes. */
import * as z from 'zod/mini';
import { isSupportedRegion } from './phone.js';
import type { PhoneCountries } from './signal-source.js';

/** Codes people reach for that are not ISO 3166-1 alpha-2: the United Kingdom is GB, Greece (in EU usage) GR. */
const ALIASES: Readonly<Record<string, string>> = Object.freeze({
  UK: 'GB',
  EL: 'GR',
  EN: 'GB',
  GBR: 'GB',
  USA: 'US',
  DEU: 'DE',
  FRA: 'FR',
  ESP: 'ES',
  ITA: 'IT',
  NLD: 'NL',
  CAN: 'CA',
  AUS: 'AU',
  IND: 'IN',
  IRL: 'IE',
  CHE: 'CH',
  FIN: 'FI',
});

/**
 * What is wrong with one code, in words; undefined when it is a region libphonenumber-js knows (the codes a
 * decision's `phone.country` can hold). The validator adds what it got.
 */
export function countryCodeProblem(code: unknown): string | undefined {
  if (typeof code !== 'string') return 'expected an ISO 3166-1 alpha-2 code such as "GB" or "US"';
  const upper = code.toUpperCase();
  if (/^[A-Z]{2}$/.test(upper) && isSupportedRegion(upper)) return undefined;
  const hint = ALIASES[upper];
  if (hint !== undefined) return `expected an ISO 3166-1 alpha-2 code (did you mean "${hint}"?)`;
  const name = /^[A-Z]{2}$/.test(upper) ? regionName(upper) : undefined;
  return name === undefined
    ? 'expected an ISO 3166-1 alpha-2 code such as "GB" or "US"'
    : `expected a region with phone numbers of its own: ${name} has none, so no number is ever of it`;
}

/** A region's English name where the runtime knows one (Antarctica for AQ): only to explain a refusal. */
function regionName(code: string): string | undefined {
  try {
    return new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' }).of(code);
  } catch {
    return undefined;
  }
}

const codes = z.pipe(
  z.array(z.unknown(), { error: 'expected an array of ISO 3166-1 alpha-2 codes such as ["GB", "IE"]' }).check(
    z.superRefine((list, ctx) => {
      list.forEach((code, i) => {
        const problem = countryCodeProblem(code);
        if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [i], input: code });
      });
    }),
  ),
  z.transform((list: unknown[]) => Object.freeze((list as string[]).map((c) => c.toUpperCase()))),
);

/** `{ allow?, deny? }`, each a list of codes (upper-cased); an empty object or an empty `allow` is refused. */
export const phoneCountriesSchema = z
  .strictObject({ allow: z.optional(codes), deny: z.optional(codes) })
  .check(
    z.refine((v) => v.allow !== undefined || v.deny !== undefined, {
      message: 'expected { allow: [...] } or { deny: [...] } with ISO 3166-1 alpha-2 codes',
    }),
    z.refine((v) => v.allow === undefined || v.allow.length > 0, {
      message: 'allow: an empty list refuses every number; list the countries to accept, or leave allow out',
      path: ['allow'],
    }),
  ) as unknown as z.ZodMiniType<PhoneCountries, unknown>;
