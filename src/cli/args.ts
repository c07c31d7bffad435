/** parseCli: the command line of check, db and report, validated into a Command or a UsageError. */
import { parseArgs } from 'node:util';
import { nearest } from '../core/validate.js';
import { type ReportCommand, reportCommand } from './report-args.js';
import { UsageError } from './usage-error.js';

/** What the command line asked for, after validation. */
export type Command =
  | { kind: 'help' }
  | {
      kind: 'check';
      phone: string;
      ip: string;
      /** Region of a national-format number, as typed; checked by the command, which loads the metadata. */
      country?: string;
      json: boolean;
      vonage: boolean;
      /** Vonage Identity Insights instead of the offline data (`--identity-insights`). */
      identityInsights: boolean;
      /** Decide as a route with `sendsOtp: true` (`--sends-otp`). */
      sendsOtp: boolean;
      database?: string;
    }
  | { kind: 'db'; json: boolean; database?: string }
  | ReportCommand;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  vonage: { type: 'boolean' },
  'identity-insights': { type: 'boolean' },
  'sends-otp': { type: 'boolean' },
  country: { type: 'string' },
  database: { type: 'string' },
  html: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  route: { type: 'string' },
} as const;
type OptionName = keyof typeof OPTIONS;

const COMMANDS = {
  check: ['help', 'json', 'vonage', 'identity-insights', 'sends-otp', 'country', 'database'],
  db: ['help', 'json', 'database'],
  report: ['help', 'json', 'html', 'since', 'until', 'route'],
} as const satisfies Record<string, readonly OptionName[]>;
type CommandName = keyof typeof COMMANDS;

const isCommand = (name: string): name is CommandName => Object.hasOwn(COMMANDS, name);
const didYouMean = (name: string, known: readonly string[], prefix = '') => {
  const hit = nearest(name, known);
  return hit === undefined ? '' : ` (did you mean ${prefix}${hit}?)`;
};

/**
 * Parses `argv` (without node and the script). Throws UsageError with a message that says what to type
 * instead. `--help` wins over every other mistake, as users reach for it when lost.
 */
export function parseCli(argv: readonly string[]): Command {
  // Non-strict, so that every mistake gets our own message rather than node's generic one.
  const { tokens } = parseArgs({
    args: [...argv],
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const positionals: string[] = [];
  const values = new Map<string, { raw: string; value: string | undefined }>();
  for (const t of tokens) {
    if (t.kind === 'positional') positionals.push(t.value);
    else if (t.kind === 'option') values.set(t.name, { raw: t.rawName, value: t.value });
  }
  if (values.has('help')) return { kind: 'help' };

  const name = positionals.shift();
  if (name === undefined) throw new UsageError('no command given: expected "check" or "db"');
  if (!isCommand(name)) {
    throw new UsageError(`unknown command "${name}"${didYouMean(name, Object.keys(COMMANDS))}`);
  }
  const allowed: readonly string[] = COMMANDS[name];
  for (const [option, { raw, value }] of values) {
    if (!Object.hasOwn(OPTIONS, option)) {
      throw new UsageError(`unknown option ${raw}${didYouMean(option, allowed, '--')}`);
    }
    if (!allowed.includes(option)) throw new UsageError(`${raw} is not an option of "${name}"`);
    const type = OPTIONS[option as OptionName].type;
    if (type === 'boolean' && value !== undefined) throw new UsageError(`${raw} takes no value`);
    if (type === 'string' && !value) throw new UsageError(`${raw} needs a value, e.g. ${example(option)}`);
  }
  const json = values.has('json');
  const database = values.get('database')?.value;

  if (name === 'report') return reportCommand(positionals, values);
  if (name === 'db') {
    if (positionals.length > 0) throw new UsageError(`"db" takes no arguments, got "${positionals[0]}"`);
    return { kind: 'db', json, ...(database === undefined ? {} : { database }) };
  }
  const [phone, ip, ...extra] = positionals;
  if (phone === undefined) throw new UsageError('check needs a phone number and an IP address');
  if (ip === undefined) throw new UsageError('check needs an IP address after the phone number');
  if (extra.length > 0) {
    throw new UsageError(
      `check takes two arguments, <phone> <ip>, got ${positionals.length}: quote a phone number that has spaces`,
    );
  }
  const country = values.get('country')?.value;
  if (values.has('vonage') && values.has('identity-insights')) {
    throw new UsageError('--vonage and --identity-insights each pick the provider: give one of them');
  }
  return {
    kind: 'check',
    phone,
    ip,
    json,
    vonage: values.has('vonage'),
    identityInsights: values.has('identity-insights'),
    sendsOtp: values.has('sends-otp'),
    ...(country === undefined ? {} : { country }),
    ...(database === undefined ? {} : { database }),
  };
}

const EXAMPLES: Record<string, string> = {
  country: '--country GB',
  database: '--database ./GeoLite2-Country.mmdb',
  html: '--html report.html',
  since: '--since 2026-11-01',
  until: '--until 2026-11-07',
  route: '--route /signup',
};

function example(option: string): string {
  return EXAMPLES[option] ?? `--${option} …`;
}
