/** Identity Insights answers validated with zod and read into a PhoneLookup. */
import * as z from 'zod/mini';
import type { ParsedPhone, PhoneLookup } from '../core/provider.js';
import { isFlag, isRecord, isText } from './answer-guards.js';

// Each insight succeeds or fails on its own, and Vonage leaves fields absent or null, so every field but an
// insight's `status.code` is optional and vocabularies stay open (casing varies too).
const text = z.nullish(z.string());
const status = z.looseObject({ code: z.string(), message: text });

const format = z.looseObject({ country_code: text, is_format_valid: z.nullish(z.boolean()), status });
const carrier = z.looseObject({
  name: text,
  network_type: text,
  country_code: text,
  network_code: text,
  status,
});
const roaming = z.looseObject({
  is_roaming: z.nullish(z.boolean()),
  country_codes: z.nullish(z.array(z.string())),
  latest_status_at: text,
  status,
});
const simSwap = z.looseObject({ is_swapped: z.nullish(z.boolean()), latest_sim_swap_at: text, status });

/** An Identity Insights answer (HTTP 200). Extra fields and insights pass. */
export const iiResponseSchema = z.looseObject({
  request_id: text,
  insights: z.looseObject({
    format: z.nullish(format),
    current_carrier: z.nullish(carrier),
    original_carrier: z.nullish(carrier),
    roaming: z.nullish(roaming),
    sim_swap: z.nullish(simSwap),
  }),
});

export type IiResponse = z.output<typeof iiResponseSchema>;
/** What the fake server and users' fixtures may write: the JSON as Vonage sends it. */
export type IiResponseJson = z.input<typeof iiResponseSchema>;

/**
 * `iiResponseSchema.safeParse`, with a hand-written check in front for the common case. The check accepts exactly
 * what the schema accepts (test/providers/response-check.test.ts holds it to the schema with fast-check), and
 * returns the parsed JSON itself where zod would copy every object; whatever it does not accept goes to the
 * schema, which also writes the failure's paths. See parseNiResponse for the figure.
 */
export function parseIiResponse(json: unknown): ReturnType<typeof iiResponseSchema.safeParse> {
  return checkIiResponse(json)
    ? { success: true, data: json as IiResponse }
    : iiResponseSchema.safeParse(json);
}

/** One insight, as its schema above: absent or null, or an object with a `status.code` and fields of their types. */
function isInsight(v: unknown, texts: readonly string[], flag?: string): boolean {
  if (v === undefined || v === null) return true;
  if (!isRecord(v)) return false;
  const status = v.status;
  if (!isRecord(status) || typeof status.code !== 'string' || !isText(status.message)) return false;
  for (const f of texts) if (!isText(v[f])) return false;
  return flag === undefined || isFlag(v[flag]);
}

const CARRIER = ['name', 'network_type', 'country_code', 'network_code'] as const;

function checkIiResponse(json: unknown): boolean {
  if (!isRecord(json) || !isText(json.request_id)) return false;
  const insights = json.insights;
  if (!isRecord(insights)) return false;
  const roaming = insights.roaming;
  if (isRecord(roaming)) {
    const codes = roaming.country_codes;
    if (Array.isArray(codes)) {
      for (const c of codes) if (typeof c !== 'string') return false;
    } else if (codes !== undefined && codes !== null) return false;
  }
  return (
    isInsight(insights.format, ['country_code'], 'is_format_valid') &&
    isInsight(insights.current_carrier, CARRIER) &&
    isInsight(insights.original_carrier, CARRIER) &&
    isInsight(roaming, ['latest_status_at'], 'is_roaming') &&
    isInsight(insights.sim_swap, ['latest_sim_swap_at'], 'is_swapped')
  );
}

/** The insights ipmatch asks for. */
export type InsightName = 'format' | 'current_carrier' | 'roaming' | 'sim_swap';

/** An insight's status codes that carry facts; compared case-insensitively (the live API sends "OK" and "ok"). */
const USABLE = new Set(['OK', 'PARTIAL_SUCCESS']);

function region(v: string | null | undefined): string | null {
  const r = v?.toUpperCase();
  return r !== undefined && /^[A-Z]{2}$/.test(r) ? r : null;
}

/** The insight `name` when its status carries facts; else undefined, and named in `missing` if it was asked. */
function usable<K extends InsightName>(
  r: IiResponse,
  name: K,
  asked: readonly InsightName[],
  missing: Record<string, string>,
): NonNullable<IiResponse['insights'][K]> | undefined {
  const insight = r.insights[name];
  if (insight && USABLE.has(insight.status.code.toUpperCase()))
    return insight as NonNullable<IiResponse['insights'][K]>;
  if (asked.includes(name)) missing[name] = insight?.status.code.toUpperCase() ?? 'NOT_RETURNED';
  return undefined;
}

/**
 * A validated answer as the core's PhoneLookup. An insight that failed contributes no facts and is named in
 * `missingInsights`; the phone's country falls back from `format` to `current_carrier` to libphonenumber-js.
 */
export function toPhoneLookup(r: IiResponse, asked: readonly InsightName[], phone: ParsedPhone): PhoneLookup {
  // Module-level helpers rather than closures made per answer: this runs on every lookup.
  const missing: Record<string, string> = {};
  const fmt = usable(r, 'format', asked, missing);
  const current = usable(r, 'current_carrier', asked, missing);
  const roam = usable(r, 'roaming', asked, missing);
  const swap = usable(r, 'sim_swap', asked, missing);

  const lookup: PhoneLookup = {
    country: region(fmt?.country_code) ?? region(current?.country_code) ?? phone.country,
    roamingCountry: null,
  };
  const facts: NonNullable<PhoneLookup['facts']> = {};
  if (typeof fmt?.is_format_valid === 'boolean') facts.valid = fmt.is_format_valid;
  if (current) {
    facts.carrier = current.name || null;
    facts.networkType = current.network_type ? current.network_type.toLowerCase() : null;
  }
  if (roam && typeof roam.is_roaming === 'boolean') {
    const countries: string[] = [];
    if (roam.is_roaming) {
      for (const code of roam.country_codes ?? []) {
        const c = region(code);
        if (c !== null && !countries.includes(c)) countries.push(c);
      }
    }
    facts.roamingCountries = countries;
    lookup.roamingCountry = facts.roamingCountries[0] ?? null;
  }
  // The sim_swapped signal is read from this fact by src/signals/sim-swap/, cached lookups included.
  if (swap && typeof swap.is_swapped === 'boolean') {
    facts.simSwap = { swapped: swap.is_swapped, at: swap.latest_sim_swap_at ?? null };
  }
  for (const _ in missing) {
    facts.missingInsights = missing;
    break;
  }
  lookup.facts = facts;
  return lookup;
}

/**
 * A short label of an error body, in either shape Vonage sends: RFC 7807 `{ type, title, detail }` or CAMARA
 * `{ status, code, message }`. Only the title or code, and only when it looks like one: `detail` and `message`
 * may echo the request, which holds the number.
 */
export function describeErrorBody(body: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const { code, title } = json as { code?: unknown; title?: unknown };
  const label = typeof code === 'string' ? code : typeof title === 'string' ? title : undefined;
  return label !== undefined && /^[\w .-]{1,60}$/.test(label) ? label : undefined;
}
