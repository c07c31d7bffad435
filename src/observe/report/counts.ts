/** The shapes both the report's figures and its timeline count in: counts per action, timeline units and buckets. */
import type { Action } from '../../core/types.js';

/** Counts per action: what happened (`action`) or what the policy wanted (`policyAction`). */
export type ActionCounts = Record<Action, number>;

export type TimelineUnit = 'hour' | 'day' | 'week' | 'month';

/** Decisions per bucket of `unit`, stacked by policyAction; `start` is the bucket's first instant (ISO 8601). */
export interface TimelineFigures {
  unit: TimelineUnit;
  buckets: (ActionCounts & { start: string })[];
}
