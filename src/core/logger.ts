/** The default logger (one line per warning on stderr) and coded once-per-core warnings. */
import type { Logger } from './types.js';

// Control characters (a newline, an escape sequence) in a field would split or repaint a log line.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const escapeControl = (text: string) =>
  text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** One meta value, compact: bare when it is a plain token, else quoted as JSON. */
function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=()]+$/.test(value) ? value : JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  if (value instanceof Error) return JSON.stringify(value.message);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return '[unserialisable]';
  }
}

/**
 * A warning as one line: the message, then its meta as `key=value` pairs in parentheses
 * (`ipmatch: … (code=IPMATCH_DATA_STALE ageDays=171)`), so that it stays one line in a terminal, a
 * container log or a grep. A string the message already quotes in full is not repeated. Custom loggers
 * still receive the meta as an object.
 */
export function formatLine(msg: string, meta?: object): string {
  const pairs = meta
    ? Object.entries(meta)
        .filter(([, value]) => value !== undefined && !(typeof value === 'string' && msg.includes(value)))
        .map(([key, value]) => `${key}=${formatValue(value)}`)
    : [];
  return escapeControl(pairs.length > 0 ? `${msg} (${pairs.join(' ')})` : msg);
}

/** The default logger: one line per warning on stderr, so that a CLI's stdout stays parseable. */
export const consoleLogger: Logger = {
  warn: (msg, meta) => console.warn(formatLine(msg, meta)),
  error: (msg, meta) => console.error(formatLine(msg, meta)),
};

/** Coded, one-time warnings (as express-rate-limit does): each code is logged once per core. */
export function onceLogger(logger: Logger) {
  const seen = new Set<string>();
  return {
    warn(code: string, message: string, meta?: object): void {
      if (seen.has(code)) return;
      seen.add(code);
      logger.warn(message, { code, ...meta });
    },
    error(code: string, message: string, meta?: object): void {
      if (seen.has(code)) return;
      seen.add(code);
      logger.error(message, { code, ...meta });
    },
    reset(): void {
      seen.clear();
    },
  };
}
