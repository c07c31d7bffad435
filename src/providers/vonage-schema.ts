/** Number Insight v1 answers validated with zod and read into a PhoneLookup. */
import * as z from 'zod/mini';
import { ProviderError } from '../core/errors.js';
import type { PhoneLookup } from '../core/provider.js';
import type { MatchLevel } from '../core/types.js';
import { isRecord, isText } from './answer-guards.js';

// Vonage documents most fields as nullable, adds enum values over time and writes `"null"` for
// "no value", so the schema checks shapes and leaves vocabularies open.
const text = z.nullish(z.string());
const asString = z.pipe(z.number(), z.transform(String));
const price = z.nullish(z.union([z.string(), asString]));

const carrier = z.nullish(
  z.looseObject({ network_code: text, name: text, country: text, network_type: text }),
);

const roaming = z.nullish(
  z.union([
    z.string(),
    z.looseObject({
      status: text,
      roaming_country_code: text,
      roaming_network_code: text,
      roaming_network_name: text,
    }),
  ]),
);

const legacyIp = z.nullish(
  z.looseObject({ address: text, ip_match_level: text, ip_country: text, ip_city: text }),
);

const callerIdentity = z.nullish(
  z.looseObject({ caller_type: text, caller_name: text, first_name: text, last_name: text }),
);

/** Number Insight v1 JSON, Basic to Advanced. Extra fields pass; only `status` is required. */
export const niResponseSchema = z.looseObject({
  status: z.union([
    z.number().check(z.int()),
    z.pipe(z.string().check(z.regex(/^\d+$/)), z.transform(Number)),
  ]),
  status_message: text,
  request_id: text,
  international_format_number: text,
  national_format_number: text,
  country_code: text,
  country_prefix: z.nullish(z.union([z.string(), asString])),
  request_price: price,
  refund_price: price,
  remaining_balance: price,
  current_carrier: carrier,
  original_carrier: carrier,
  ported: text,
  caller_identity: callerIdentity,
  lookup_outcome: z.nullish(z.union([z.number(), z.string()])),
  valid_number: text,
  reachable: text,
  roaming,
  ip: z.union([legacyIp, z.string()]),
});

export type NiResponse = z.output<typeof niResponseSchema>;
/** What the fake server and users' fixtures may write: the JSON as Vonage sends it. */
export type NiResponseJson = z.input<typeof niResponseSchema>;

/**
 * `niResponseSchema.safeParse`, with a hand-written check in front for the common case. The check accepts exactly
 * what the schema accepts, and gives the same data (test/providers/response-check.test.ts holds it to the schema
 * with fast-check); whatever it does not accept goes to the schema, which also writes the failure's paths. zod
 * walked each answer's nineteen fields through unions and copied every object: about 8% of a remote check's CPU in
 * `npx tsx bench/profile.ts --target=vonage`. The check reads the parsed JSON in place and turns `status`
 * and the prices into the schema's types there.
 */
export function parseNiResponse(json: unknown): ReturnType<typeof niResponseSchema.safeParse> {
  const data = checkNiResponse(json);
  return data ? { success: true, data } : niResponseSchema.safeParse(json);
}

/** A nullish object whose listed fields are all `text`, as `looseObject({ …: text }).nullish()`. */
const isTextObject = (v: unknown, fields: readonly string[]) => {
  if (v === undefined || v === null) return true;
  if (!isRecord(v)) return false;
  for (const f of fields) if (!isText(v[f])) return false;
  return true;
};
/** A finite number, as `z.number()` takes. */
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const TEXT_FIELDS = [
  'status_message',
  'request_id',
  'international_format_number',
  'national_format_number',
  'country_code',
  'ported',
  'valid_number',
  'reachable',
] as const;
/** `z.union([z.string(), z.number().transform(String)]).nullish()`: numbers become strings. */
const PRICED = ['country_prefix', 'request_price', 'refund_price', 'remaining_balance'] as const;
const CARRIER = ['network_code', 'name', 'country', 'network_type'] as const;
const ROAMING = ['status', 'roaming_country_code', 'roaming_network_code', 'roaming_network_name'] as const;
const LEGACY_IP = ['address', 'ip_match_level', 'ip_country', 'ip_city'] as const;
const CALLER = ['caller_type', 'caller_name', 'first_name', 'last_name'] as const;

/** The answer, typed and with the schema's transforms applied in place; undefined when the schema would refuse it. */
function checkNiResponse(json: unknown): NiResponse | undefined {
  if (!isRecord(json)) return undefined;
  const r = json;
  const status = r.status;
  if (typeof status === 'string') {
    if (!/^\d+$/.test(status)) return undefined;
  } else if (!Number.isSafeInteger(status)) return undefined;
  for (const f of TEXT_FIELDS) if (!isText(r[f])) return undefined;
  if (!isText(r.lookup_outcome) && !isNumber(r.lookup_outcome)) return undefined;
  for (const f of PRICED) if (!isText(r[f]) && !isNumber(r[f])) return undefined;
  if (
    !isTextObject(r.current_carrier, CARRIER) ||
    !isTextObject(r.original_carrier, CARRIER) ||
    !isTextObject(r.caller_identity, CALLER) ||
    (typeof r.roaming !== 'string' && !isTextObject(r.roaming, ROAMING)) ||
    (typeof r.ip !== 'string' && !isTextObject(r.ip, LEGACY_IP))
  ) {
    return undefined;
  }
  // Every check has passed: only now change the answer, so that a refused one reaches the schema untouched.
  if (typeof status === 'string') r.status = Number(status);
  for (const f of PRICED) if (typeof r[f] === 'number') r[f] = String(r[f]);
  return r as NiResponse;
}

type StatusOutcome =
  | { kind: 'data' }
  | { kind: 'throttled' }
  | { kind: 'error'; code: string; meaning: string };

/** The status table of the ref file: what each NI status means for a lookup. */
const STATUS: Record<number, StatusOutcome> = {
  0: { kind: 'data' },
  1: { kind: 'throttled' },
  3: { kind: 'error', code: 'invalid_request', meaning: 'invalid request parameters' },
  4: { kind: 'error', code: 'invalid_credentials', meaning: 'invalid credentials' },
  5: { kind: 'error', code: 'upstream_error', meaning: 'internal error' },
  9: { kind: 'error', code: 'quota_exceeded', meaning: 'partner quota exceeded (out of credit)' },
  19: { kind: 'error', code: 'not_allowed', meaning: 'facility not allowed for this account' },
  // 43-45: the live lookup failed, but the answer carries (billed) partial data.
  43: { kind: 'data' },
  44: { kind: 'data' },
  45: { kind: 'data' },
  999: { kind: 'error', code: 'invalid_request', meaning: 'request unparseable' },
};

/** Error codes that say nothing about Vonage's health: they must not trip the circuit breaker. */
const NOT_UPSTREAM = new Set(['invalid_request', 'invalid_credentials', 'quota_exceeded', 'not_allowed']);

/**
 * What a status means. Vonage's `status_message` is never copied into an error: it may echo the request.
 * A status outside the table is an `upstream_error`.
 */
export function statusOutcome(status: number): StatusOutcome {
  return (
    STATUS[status] ?? { kind: 'error', code: 'upstream_error', meaning: 'a status this client does not know' }
  );
}

/** The ProviderError for an error status. */
export function statusError(
  status: number,
  outcome: Extract<StatusOutcome, { kind: 'error' }>,
): ProviderError {
  return new ProviderError(outcome.code, `Vonage answered status ${status}: ${outcome.meaning}`, {
    upstream: !NOT_UPSTREAM.has(outcome.code),
  });
}

/** Field paths (never values: they may hold the number) of a response that failed the schema. */
export function describeSchemaFailure(error: z.core.$ZodError): string {
  const paths = [...new Set(error.issues.map((i) => (i.path.length > 0 ? i.path.join('.') : '(body)')))];
  return `Vonage answered with an unexpected shape (${paths.slice(0, 5).join(', ')})`;
}

/** Vonage writes `"null"` and `""` where it has no value. */
function value(v: string | null | undefined): string | null {
  return v === undefined || v === null || v === '' || v === 'null' ? null : v;
}

function region(v: string | null | undefined): string | null {
  const r = value(v)?.toUpperCase();
  return r !== undefined && /^[A-Z]{2}$/.test(r) ? r : null;
}

function validity(v: string | null | undefined): boolean | undefined {
  if (v === 'valid' || v === 'inferred') return true;
  if (v === 'not_valid' || v === 'inferred_not_valid') return false;
  return undefined;
}

function matchLevel(v: string | null | undefined): MatchLevel {
  if (v === 'country' || v === 'Country Level') return 'country';
  if (v === 'mismatch' || v === 'Mismatch') return 'mismatch';
  return 'unknown';
}

type Facts = NonNullable<PhoneLookup['facts']>;

function facts(r: NiResponse, cnam: boolean): Facts {
  // Field by field, without a helper closure: this runs on every answer.
  const out: Facts = {};
  if (r.current_carrier !== undefined) {
    out.carrier = value(r.current_carrier?.name);
    out.networkType = value(r.current_carrier?.network_type);
  }
  const valid = validity(r.valid_number);
  if (valid !== undefined) out.valid = valid;
  if (r.reachable !== undefined) out.reachable = value(r.reachable);
  if (r.ported !== undefined) out.ported = value(r.ported);
  const who = r.caller_identity;
  if (cnam && who) {
    out.callerIdentity = {
      callerType: value(who.caller_type),
      callerName: value(who.caller_name),
      firstName: value(who.first_name),
      lastName: value(who.last_name),
    };
  }
  return out;
}

/** A validated answer with status 0 or 43-45, as the core's PhoneLookup. */
export function toPhoneLookup(r: NiResponse, options: { cnam: boolean }): PhoneLookup {
  const roam = typeof r.roaming === 'object' && r.roaming !== null ? r.roaming : null;
  const lookup: PhoneLookup = {
    country: region(r.country_code),
    roamingCountry: roam?.status === 'roaming' ? region(roam.roaming_country_code) : null,
  };
  const f = facts(r, options.cnam);
  if (Object.keys(f).length > 0) lookup.facts = f;
  if (r.request_price != null || r.remaining_balance != null) {
    lookup.cost = {
      price: value(r.request_price),
      currency: 'EUR',
      remainingBalance: value(r.remaining_balance),
    };
  }
  if (typeof r.ip === 'object' && r.ip !== null) {
    lookup.legacyIp = { matchLevel: matchLevel(r.ip.ip_match_level), country: region(r.ip.ip_country) };
  }
  return lookup;
}
