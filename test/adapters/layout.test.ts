/** src/adapters/ as a reader finds it: five entry points, their shared internals in shared/, no import cycle. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../src/adapters');
// nestjs/ is an entry point of several files (module, guard, decorators), as DESIGN.md's layout says.
const ENTRIES = ['express.ts', 'fastify.ts', 'fetch.ts', 'hono.ts', 'koa.ts', 'nestjs'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The files under src/adapters/ that `file` imports (type-only imports included: a reader follows them too). */
function localImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s+'(\.[^']+)'/g)].map((m) => m[1]!);
  return specifiers
    .map((spec) => resolve(dirname(file), spec).replace(/\.js$/, '.ts'))
    .filter((path) => path.startsWith(`${ROOT}/`));
}

/** Every import cycle among `files`, each as the list of files it passes through. */
function cycles(files: string[]): string[][] {
  const graph = new Map(files.map((file) => [file, localImports(file)]));
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      found.push(path.slice(path.indexOf(file)).map((f) => relative(ROOT, f)));
      return;
    }
    state.set(file, 'open');
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of files) visit(file, []);
  return found;
}

describe('src/adapters/ layout', () => {
  const files = sources(ROOT);

  test('the folder itself lists only the five entry points; everything they share is in shared/', () => {
    const top = readdirSync(ROOT).filter((name) => name !== 'shared');
    expect(top.sort()).toEqual(ENTRIES);
  });

  test('no file under src/adapters/ imports itself back through another (client-ip ↔ its header and XFF modes)', () => {
    expect(cycles(files)).toEqual([]);
  });

  test('shared/ never imports an entry point: the entry files sit on top', () => {
    const upward = files
      .filter((file) => file.includes('/shared/'))
      .flatMap((file) =>
        localImports(file)
          .filter((to) => !to.includes('/shared/'))
          .map((to) => [file, to]),
      );
    expect(upward).toEqual([]);
  });

  test('every file opens with a line saying what it holds, and stays under 300 lines', () => {
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(text.startsWith('/**'), relative(ROOT, file)).toBe(true);
      expect(text.split('\n').length, relative(ROOT, file)).toBeLessThanOrEqual(300);
    }
  });
});
