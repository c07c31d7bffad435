/** The arguments of `ipmatch report`, validated: sources, --since/--until as instants, --html, --route. */
import { UsageError } from './usage-error.js';

/** `ipmatch report <files|-> [--html F] [--json] [--since D] [--until D] [--route P]`, validated. */
export interface ReportCommand {
  kind: 'report';
  /** Paths, or '-' for standard input. */
  sources: string[];
  json: boolean;
  html?: string;
  /** Inclusive, ms since the epoch. */
  since?: number;
  /** Exclusive, ms since the epoch. */
  until?: number;
  route?: string;
}

const DATE_ONLY = /^\d{4}-\d\d-\d\d$/;
const DAY = 86_400_000;

/**
 * A date as typed: '2026-11-01' is that UTC day (its start for --since, its end for --until, so both days are
 * included), or any ISO 8601 date and time.
 */
function instant(option: string, value: string, endOfDay: boolean): number {
  const t = Date.parse(DATE_ONLY.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(t)) {
    throw new UsageError(
      `${option}: expected a date such as 2026-11-01 or 2026-11-01T12:00:00Z, got "${value}"`,
    );
  }
  return endOfDay && DATE_ONLY.test(value) ? t + DAY : t;
}

/** The report command from its positionals and options (already checked to be report's own). */
export function reportCommand(
  positionals: string[],
  values: Map<string, { value: string | undefined }>,
): ReportCommand {
  if (positionals.length === 0) {
    throw new UsageError(
      'report needs decision logs to read, e.g. ipmatch report decisions.ndjson (or - for stdin)',
    );
  }
  const text = (name: string) => values.get(name)?.value;
  const command: ReportCommand = { kind: 'report', sources: positionals, json: values.has('json') };
  const html = text('html');
  const since = text('since');
  const until = text('until');
  const route = text('route');
  if (html !== undefined) command.html = html;
  if (since !== undefined) command.since = instant('--since', since, false);
  if (until !== undefined) command.until = instant('--until', until, true);
  if (route !== undefined) command.route = route;
  if (command.since !== undefined && command.until !== undefined && command.since >= command.until) {
    throw new UsageError(`--since (${since}) must come before --until (${until})`);
  }
  return command;
}
