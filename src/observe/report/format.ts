/** Number, share and route formatting shared by the report's terminal and HTML output. */
import type { PairFigure, Report } from './figures.js';

/** Shared by the terminal summary and the page, so that both print a figure the same way. */
export const count = (n: number) => n.toLocaleString('en-US');
export const percent = (share: number) => `${(share * 100).toFixed(1)}%`;
export const routeName = (route: string | null) => route ?? '(no route: direct check())';
export const pairName = (p: PairFigure) => `${p.phoneCountry} → ${p.ipCountry}`;
export const day = (iso: string | null) => (iso === null ? '-' : iso.slice(0, 16).replace('T', ' '));

/** What the policy in force blocked (or would have, in observe mode), over every route. */
export function inForce(report: Report) {
  const all = report.whatIf.rows[0]!;
  const result = all.results.find((r) => r.policy === 'in_force')!;
  return { blocked: result.blocked, share: result.share };
}

/** Where a bad line is, as `file:line`. */
export const badLineName = (b: Report['input']['bad']['first'][number]) => `${b.source}:${b.line}`;
