/** Text from a log made inert for a terminal: no escape sequence, control character or bidi override survives. */

/**
 * Escape sequences, each replaced whole: CSI (`ESC [` or C1 0x9B, parameters, a final byte); OSC, DCS, SOS, PM
 * and APC strings (window titles, OSC 8 hyperlinks, up to BEL, ST or the end of the text); any other
 * `ESC` + intermediates + final byte.
 */
const SEQUENCE = new RegExp(
  [
    '(?:\\x1b\\[|\\x9b)[0-?]*[ -/]*[@-~]?',
    '(?:\\x1b[\\]PX^_]|[\\x90\\x98\\x9d\\x9e\\x9f])[^\\x07\\x1b\\x9c]*(?:\\x07|\\x1b\\\\|\\x9c)?',
    '\\x1b[ -/]*[0-~]?',
  ].join('|'),
  'g',
);
/**
 * Characters that a terminal may act on, or that reorder or split what it shows, besides C0: DEL, C1, the
 * Arabic letter mark, LRM/RLM, the Unicode line and paragraph separators, bidi embeddings, overrides, isolates.
 */
const ACTIVE = '\\x7f-\\x9f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';
/** C0 (tab and newline too: a name must not start a line of its own) and the rest. */
const CONTROL = new RegExp(`[\\x00-\\x1f${ACTIVE}]`, 'g');
/** The same with newline kept: for text whose newlines are our own layout. */
const CONTROL_BUT_NEWLINE = new RegExp(`[\\x00-\\x09\\x0b-\\x1f${ACTIVE}]`, 'g');
const ACTIVE_ONLY = new RegExp(`[${ACTIVE}]`, 'g');
/** Shows where something was taken out, without showing it. */
const REPLACEMENT = '\uFFFD';

/** One name from a log, safe to print: each escape sequence and control character becomes U+FFFD. */
export function printable(text: string): string {
  return text.replace(SEQUENCE, REPLACEMENT).replace(CONTROL, REPLACEMENT);
}

/** A whole text of ours, safe to print: as {@link printable}, but its newlines stay. */
export function printableLines(text: string): string {
  return text.replace(SEQUENCE, REPLACEMENT).replace(CONTROL_BUT_NEWLINE, REPLACEMENT);
}

/**
 * A copy of a JSON-shaped value with every string in it, and every object key, made {@link printable}. Keys
 * that become equal are merged, numbers summed: two reasons that differ only by an escape count together.
 */
export function inert<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (Array.isArray(value)) return value.map(inert) as T;
  if (typeof value !== 'object' || value === null) return value;
  // A Map, then fromEntries: a key such as "__proto__" from a log stays a key.
  const out = new Map<string, unknown>();
  for (const [key, v] of Object.entries(value)) {
    const safe = printable(key);
    const held = out.get(safe);
    if (held === undefined) out.set(safe, inert(v));
    else if (typeof held === 'number' && typeof v === 'number') out.set(safe, held + v);
  }
  return Object.fromEntries(out) as T;
}

/** JSON text, with what a terminal may act on even inside a string (DEL, C1, bidi…) written as \u escapes. */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    ACTIVE_ONLY,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
