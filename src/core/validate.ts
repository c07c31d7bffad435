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

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
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

/** A whole number in [min, max]: the classic API's `z.number().int().min(min).max(max)`, same checks and messages. */
export function wholeNumber(min: number, max?: number) {
  return max === undefined
    ? z.number().check(z.int(), z.minimum(min))
    : z.number().check(z.int(), z.minimum(min), z.maximum(max));
}

let englishErrors: z.core.$ZodErrorMap | undefined;

/**
 * Parses options once, at construction. Throws IpMatchConfigError listing every problem as
 * "field: expected X, got Y", with a "did you mean" for unknown keys.
 */
export function parseOptions<S extends z.ZodMiniType>(schema: S, value: unknown, where: string): z.output<S> {
  // The classic API sets English messages globally; mini has none until asked, so ask per parse (no global change).
  englishErrors ??= en().localeError;
  const result = z.safeParse(schema, value ?? {}, { error: englishErrors });
  if (result.success) return result.data;
  const problems: string[] = [];
  const collect = (issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[]) => {
    for (const issue of issues) {
      const path = [...prefix, ...issue.path];
      const field = path.length > 0 ? path.join('.') : '(options)';
      if (issue.code === 'unrecognized_keys') {
        const known = knownKeys(schema, path);
        for (const key of issue.keys) {
          const guess = nearest(key, known);
          const name = path.length > 0 ? `${field}.${key}` : key;
          problems.push(
            `${name}: unknown option${guess ? `; did you mean "${guess}"?` : ''} (known: ${known.join(', ')})`,
          );
        }
      } else if (issue.code === 'invalid_union') {
        // The value had the shape of one branch (an object) but a field inside it is wrong: report that field.
        const inner = issue.errors.find((branch) => branch.some((i) => i.path.length > 0));
        if (inner) collect(inner, path);
        else
          problems.push(
            `${field}: ${issue.message.replace(/^Invalid input: /, '')}, got ${describe(at(value, path))}`,
          );
      } else {
        problems.push(
          `${field}: ${issue.message.replace(/^Invalid input: /, '')}, got ${describe(at(value, path))}`,
        );
      }
    }
  };
  collect(result.error.issues, []);
  throw new IpMatchConfigError(where, problems);
}

/** parseOptions, except that a wrongly typed secret (`secrets` names the fields) is never echoed back. */
export function parseSecretOptions<S extends z.ZodMiniType>(
  schema: S,
  value: unknown,
  where: string,
  secrets: readonly string[],
): z.output<S> {
  try {
    return parseOptions(schema, value, where);
  } catch (error) {
    if (!(error instanceof IpMatchConfigError)) throw error;
    const problems = error.problems.map((p) =>
      secrets.some((s) => p.startsWith(`${s}:`)) ? p.replace(/, got [\s\S]*$/, '') : p,
    );
    throw new IpMatchConfigError(where, problems);
  }
}
