// zod/mini: the same zod 4 validators as the classic API, as functions a bundler keeps only when used. tsup
// bundles the few in use into dist (tsup.config.ts), where the classic API loaded ~95 modules at import.
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { IpMatchConfigError } from './errors.js';

/** Levenshtein distance, for "did you mean" on unknown option names. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = next;
    }
  }
  return row[b.length]!;
}

/** The known name closest to `name`, if it is close enough to be a typo. */
export function nearest(name: string, known: readonly string[]): string | undefined {
  // A long string is no typo of a short name; and the distance costs name.length × k.length.
  if (name.length > 64) return undefined;
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = distance(name.toLowerCase(), k.toLowerCase());
    if (d < bestScore) {
      best = k;
      bestScore = d;
    }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** What a value holds, shortened: how an error shows what it got. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** What a value is, never what it holds: how options that hold a secret show what they got. */
function kind(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} (value not shown)`;
}

function at(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

type Def = { innerType?: unknown; options?: unknown[]; in?: unknown };
const defOf = (s: unknown): Def | undefined => (s as { _zod?: { def?: Def } } | undefined)?._zod?.def;
const shapeOf = (s: unknown) => (s as { shape?: Record<string, unknown> } | undefined)?.shape;

/** The object schema inside optional/default/pipe wrappers and unions (the first option that is an object). */
function objectIn(s: unknown): unknown {
  for (let depth = 0; depth < 10 && s && !shapeOf(s); depth++) {
    const def = defOf(s);
    s = def?.innerType ?? def?.in ?? def?.options?.find((o) => shapeOf(objectIn(o)));
    if (def?.options) s = objectIn(s);
  }
  return s;
}

function knownKeys(schema: z.ZodMiniType, path: readonly PropertyKey[]): string[] {
  let s: unknown = objectIn(schema);
  for (const key of path) s = objectIn(shapeOf(s)?.[String(key)]);
  const shape = shapeOf(s);
  return shape ? Object.keys(shape) : [];
}

/** Schemas of options objects that hold a secret: see `holdsSecrets`. */
const secretHolders = new WeakSet<object>();
const marked = (s: unknown) =>
  typeof s === 'object' && s !== null && (secretHolders.has(s) || secretHolders.has(objectIn(s) as object));

/**
 * Marks the schema of an options object that holds a secret (an API secret, a private key, a key secret, a
 * licence key or token). A config error about that object, or any field inside it, then names each field and
 * what it expected, with "did you mean" for typos, but never a value it was given: a secret pasted into the
 * wrong option (or the whole of `process.env` passed by mistake) must not end up in a startup log. Unknown keys
 * are named only when they look like option names (letters only, at most 32). Returns `schema`.
 */
export function holdsSecrets<S extends z.ZodMiniType>(schema: S): S {
  secretHolders.add(schema);
  return schema;
}

/** Whether the object at `path`, or one around it, holds a secret. */
function redactsAt(schema: z.ZodMiniType, path: readonly PropertyKey[]): boolean {
  let s: unknown = schema;
  if (marked(s)) return true;
  for (const key of path) {
    s = shapeOf(objectIn(s))?.[String(key)];
    if (s === undefined) return false;
    if (marked(s)) return true;
  }
  return false;
}

/** How an unknown key of a secret-holding object may be shown: an option's name looks like this. */
const OPTION_NAME = /^[A-Za-z]{1,32}$/;

/** Strings of `value` long enough to be a secret, to strip from any message about it (a last line of defence). */
function longStrings(value: unknown, found: string[] = [], depth = 0): string[] {
  if (typeof value === 'string') {
    if (value.length >= 12) found.push(value);
  } else if (typeof value === 'object' && value !== null && depth < 4 && found.length < 200) {
    for (const key of Object.keys(value).slice(0, 200)) {
      longStrings((value as Record<string, unknown>)[key], found, depth + 1);
    }
  }
  return found;
}

/** A whole number in [min, max]: the classic API's `z.number().int().min(min).max(max)`, same checks and messages. */
export function wholeNumber(min: number, max?: number) {
  return max === undefined
    ? z.number().check(z.int(), z.minimum(min))
    : z.number().check(z.int(), z.minimum(min), z.maximum(max));
}

let englishErrors: z.core.$ZodErrorMap | undefined;

/**
 * Parses options once, at construction. Throws IpMatchConfigError listing every problem as
 * "field: expected X, got Y", with a "did you mean" for unknown keys and mistyped values. For a schema marked
 * with `holdsSecrets`, Y says only what kind of value it was.
 */
export function parseOptions<S extends z.ZodMiniType>(schema: S, value: unknown, where: string): z.output<S> {
  // The classic API sets English messages globally; mini has none until asked, so ask per parse (no global change).
  englishErrors ??= en().localeError;
  const result = z.safeParse(schema, value ?? {}, { error: englishErrors });
  if (result.success) return result.data;
  const problems: string[] = [];
  /** ", got X" for the value at `path`: what it holds, or, in an object holding a secret, only what it is. */
  const got = (path: readonly PropertyKey[], message: string) => {
    const v = at(value, path);
    if (!redactsAt(schema, path)) return `, got ${describe(v)}`;
    return message.includes(', received ') ? '' : `, got ${kind(v)}`;
  };
  const collect = (issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[]) => {
    for (const issue of issues) {
      const path = [...prefix, ...issue.path];
      const field = path.length > 0 ? path.join('.') : '(options)';
      if (issue.code === 'unrecognized_keys') {
        const known = knownKeys(schema, path);
        const hidden = redactsAt(schema, path);
        for (const key of issue.keys) {
          const guess = nearest(key, known);
          const shown = hidden && !guess && !OPTION_NAME.test(key) ? '(a key not shown)' : key;
          const name = path.length > 0 ? `${field}.${shown}` : shown;
          problems.push(
            `${name}: unknown option${guess ? `; did you mean "${guess}"?` : ''} (known: ${known.join(', ')})`,
          );
        }
      } else if (issue.code === 'invalid_union') {
        // The value had the shape of one branch (an object) but a field inside it is wrong: report that field.
        const inner = issue.errors.find((branch) => branch.some((i) => i.path.length > 0));
        if (inner) collect(inner, path);
        else problems.push(`${field}: ${expected(issue)}${got(path, issue.message)}`);
      } else {
        const guess = valueGuess(issue, at(value, path));
        problems.push(`${field}: ${expected(issue)}${got(path, issue.message)}${guess}`);
      }
    }
  };
  collect(result.error.issues, []);
  if (!redactsAt(schema, [])) throw new IpMatchConfigError(where, problems);
  // No message above shows a value; should a message ever quote one, it is cut out here all the same.
  const secrets = longStrings(value);
  throw new IpMatchConfigError(
    where,
    problems.map((p) => secrets.reduce((text, secret) => text.replaceAll(secret, '[not shown]'), p)),
  );
}

const expected = (issue: z.core.$ZodIssue) => issue.message.replace(/^Invalid input: /, '');

/** "; did you mean X?" for a string that is a typo of one of the allowed values ('ofline' for 'offline'). */
function valueGuess(issue: z.core.$ZodIssue, given: unknown): string {
  if (issue.code !== 'invalid_value' || typeof given !== 'string') return '';
  const allowed = issue.values.filter((v): v is string => typeof v === 'string');
  const guess = nearest(given, allowed);
  return guess === undefined ? '' : `; did you mean "${guess}"?`;
}
