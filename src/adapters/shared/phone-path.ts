/** Reads one value out of a parsed request body. */
export type PathReader = (body: unknown) => unknown;

// Walking these would read an object's prototype (or its constructor) instead of the client's data.
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Why `path` cannot be a phone path, or undefined when it can. A path is dot-separated own keys of the
 * body, such as 'phone' or 'user.phone' ('items.0.phone' reads an array element).
 */
export function phonePathProblem(path: string): string | undefined {
  if (path === '') return 'expected a dot path such as "phone" or "user.phone", not an empty string';
  const keys = path.split('.');
  if (keys.some((k) => k === '')) return `"${path}" has an empty segment: write it like "user.phone"`;
  const bad = keys.find((k) => FORBIDDEN.has(k));
  if (bad) return `"${bad}" is not allowed in a phone path: it would read the object's prototype`;
  return undefined;
}

function own(value: unknown, key: string): unknown {
  // Own properties only: an attacker-controlled body must not reach Object.prototype through the path.
  return typeof value === 'object' && value !== null && Object.hasOwn(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/**
 * Compiles a dot path once into a reader. Throws on a path that `phonePathProblem` rejects; route options
 * validate it first so that users get the message with the rest of their option problems.
 */
export function compilePhonePath(path: string): PathReader {
  const problem = phonePathProblem(path);
  if (problem) throw new TypeError(problem);
  const keys = path.split('.');
  if (keys.length === 1) {
    const key = keys[0]!;
    return (body) => own(body, key);
  }
  if (keys.length === 2) {
    const [a, b] = keys as [string, string];
    return (body) => own(own(body, a), b);
  }
  return (body) => {
    let value = body;
    for (const key of keys) {
      value = own(value, key);
      if (value === undefined) return undefined;
    }
    return value;
  };
}
