import { ACTIONS } from '../../core/options.js';
import type { Action, MatchLevel } from '../../core/types.js';

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
  phoneCountry: string | null;
  errorCode: string | null;
  phoneKey: string | null;
}

const LEVELS: readonly string[] = ['country', 'mismatch', 'unknown'] satisfies MatchLevel[];
const isAction = (v: unknown): v is Action => (ACTIONS as readonly unknown[]).includes(v);
const isLevel = (v: unknown): v is MatchLevel => LEVELS.includes(v as string);
const stringOrNull = (v: unknown) => (typeof v === 'string' ? v : null);
const NO_SIGNALS: readonly string[] = Object.freeze([]);

/**
 * One line of a decision log, or the problem with it in words. Fields the report counts by must be there
 * and be known values; the rest may be missing (older logs) and count as unknown.
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
  if (!isAction(o.action)) return fieldProblem(o, 'action');
  if (!isAction(o.policyAction)) return fieldProblem(o, 'policyAction');
  if (!isLevel(o.matchLevel)) return fieldProblem(o, 'matchLevel');
  if (typeof o.reason !== 'string') return fieldProblem(o, 'reason');
  const signals = Array.isArray(o.signals) ? o.signals.filter((s) => typeof s === 'string') : NO_SIGNALS;
  return {
    time,
    route: stringOrNull(o.route),
    action: o.action,
    policyAction: o.policyAction,
    matchLevel: o.matchLevel,
    reason: o.reason,
    signals,
    ipCountry: stringOrNull(o.ipCountry),
    phoneCountry: stringOrNull(o.phoneCountry),
    errorCode: stringOrNull(o.errorCode),
    phoneKey: stringOrNull(o.phoneKey),
  };
}

function fieldProblem(o: Record<string, unknown>, field: string): string {
  return o[field] === undefined ? `missing field "${field}"` : `field "${field}" has an unknown value`;
}
