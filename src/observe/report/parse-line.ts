/** One decision-log line read and checked: a logged decision, or why the line is bad. */
import { isAction } from '../../core/policy.js';
import type { Action, MatchLevel, VelocityCounts } from '../../core/types.js';
import { EARLIEST, LATEST, MAX_NAME } from './limits.js';

/** What the report needs of a decision-log line, checked. */
export interface LoggedDecision {
  /** ms since the epoch. */
  time: number;
  route: string | null;
  action: Action;
  policyAction: Action;
  matchLevel: MatchLevel;
  reason: string;
  signals: readonly string[];
  ipCountry: string | null;
  /** The IP-nature list that matched; null when none did, or in logs written before it was logged. */
  ipNetwork: string | null;
  phoneCountry: string | null;
  /** The kind of number (`mobile`, `premium_rate`…); null when not known or not logged. */
  phoneType: string | null;
  errorCode: string | null;
  phoneKey: string | null;
  /** The velocity counts, when the line holds four whole numbers there; null otherwise. */
  velocity: VelocityCounts | null;
  /** The keyed label of the number's block: 16 to 64 hex digits, as decisionLog writes it; null otherwise. */
  prefixKey: string | null;
  /** Present when the offline data decided for a remote provider that was down. */
  degraded?: true;
}

const LEVELS: readonly string[] = ['country', 'mismatch', 'unknown'] satisfies MatchLevel[];
const isLevel = (v: unknown): v is MatchLevel => LEVELS.includes(v as string);
const NO_SIGNALS: readonly string[] = Object.freeze([]);
const COUNTRY = /^[A-Za-z]{2}$/;
/** What decisionLog writes as a keyed label; anything else (a prefix in clear, markup) is not one. */
const KEY = /^[0-9a-f]{16,64}$/;
/** A count no check could reach; a larger one is not a count. */
const MAX_COUNT = 1_000_000_000;

/** A name from the log, cut to MAX_NAME characters (never between the halves of a surrogate pair). */
function name(s: string): string {
  if (s.length <= MAX_NAME) return s;
  const highSurrogate = (s.charCodeAt(MAX_NAME - 2) & 0xfc00) === 0xd800;
  const end = MAX_NAME - 1 - (highSurrogate ? 1 : 0);
  return `${s.slice(0, end)}…`;
}
const nameOrNull = (v: unknown) => (typeof v === 'string' ? name(v) : null);
/** A country is two letters; anything else in the field counts as not known. */
const country = (v: unknown) => (typeof v === 'string' && COUNTRY.test(v) ? v.toUpperCase() : null);
const isCount = (v: unknown): v is number =>
  Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_COUNT;

/** The four velocity counts, each a whole number from 0 to a billion, or null: a half-valid object counts for none. */
function velocity(v: unknown): VelocityCounts | null {
  if (typeof v !== 'object' || v === null) return null;
  const { ip, subnet, phoneCountries, prefix } = v as Record<string, unknown>;
  return isCount(ip) && isCount(subnet) && isCount(phoneCountries) && isCount(prefix)
    ? { ip, subnet, phoneCountries, prefix }
    : null;
}

/**
 * One line of a decision log, or the problem with it in words. Fields the report counts by must be there
 * and be known values; the rest may be missing (older logs) and count as unknown. The time must fall in
 * 2000–2100, names are cut to MAX_NAME characters, and a country that is not two letters is not known.
 */
export function parseLine(text: string): LoggedDecision | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not a JSON object';
  const o = raw as Record<string, unknown>;
  const time = typeof o.time === 'string' ? Date.parse(o.time) : Number.NaN;
  if (Number.isNaN(time)) return o.time === undefined ? 'missing field "time"' : 'field "time" is not a date';
  if (time < EARLIEST || time > LATEST) return 'field "time" is outside 2000–2100';
  if (!isAction(o.action)) return fieldProblem(o, 'action');
  if (!isAction(o.policyAction)) return fieldProblem(o, 'policyAction');
  if (!isLevel(o.matchLevel)) return fieldProblem(o, 'matchLevel');
  if (typeof o.reason !== 'string') return fieldProblem(o, 'reason');
  const signals = Array.isArray(o.signals)
    ? o.signals.filter((s) => typeof s === 'string').map(name)
    : NO_SIGNALS;
  const decision: LoggedDecision = {
    time,
    route: nameOrNull(o.route),
    action: o.action,
    policyAction: o.policyAction,
    matchLevel: o.matchLevel,
    reason: name(o.reason),
    signals,
    ipCountry: country(o.ipCountry),
    ipNetwork: nameOrNull(o.ipNetwork),
    phoneCountry: country(o.phoneCountry),
    phoneType: nameOrNull(o.phoneType),
    errorCode: nameOrNull(o.errorCode),
    phoneKey: typeof o.phoneKey === 'string' ? o.phoneKey : null,
    velocity: velocity(o.velocity),
    prefixKey: typeof o.prefixKey === 'string' && KEY.test(o.prefixKey) ? o.prefixKey : null,
  };
  if (o.degraded === true) decision.degraded = true;
  return decision;
}

function fieldProblem(o: Record<string, unknown>, field: string): string {
  return o[field] === undefined ? `missing field "${field}"` : `field "${field}" has an unknown value`;
}
