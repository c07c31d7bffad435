/** After tsup: the shared chunks that the public entry points load at import, merged into one core module. */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

// esbuild splits shared code into one chunk per set of entry points that use it: `ipmatch/express` loaded 21 files,
// and a cold start pays Node's price per module file (resolve, read, compile, link). Merged into one module, the
// core keeps one identity for every entry point (so `instanceof` holds across them) and an import opens two
// files: the entry and the core. Lazily imported chunks (the updater, the remote providers' HTTP layer, the
// CLI's commands, the report) stay apart, and so do chunks that only the other entry points reach.

const CHUNK = /^chunk-[A-Z0-9]+\.(?:js|cjs)$/;
const ESM_FROM = /^(import|export)\s*\{([^}]*)\}\s*from\s*'\.\/(chunk-[A-Z0-9]+\.js)';/gm;
const ESM_BARE = /^import\s*'\.\/(chunk-[A-Z0-9]+\.js)';/gm;
const CJS_VAR = /^var (\w+) = require\('\.\/(chunk-[A-Z0-9]+\.cjs)'\);/gm;
const CJS_BARE = /^require\('\.\/(chunk-[A-Z0-9]+\.cjs)'\);/gm;
const ANY_CHUNK = /['"]\.\/(chunk-[A-Z0-9]+\.c?js)['"]/g;
// esbuild keeps no ordinary comment, so the `// src/core/ipmatch.ts` line that starts each source file's code in a
// chunk goes through the bundle as a legal comment (`//!`), kept in place, and comes back as it was. (The CJS core
// wraps each chunk in a function, where esbuild keeps none: its code is found through its source map.)
const SOURCE_MARK = /^(\s*)\/\/ ((?:src|node_modules)\/\S+)$/gm;
const LEGAL_MARK = /^(\s*)\/\/! ((?:src|node_modules)\/\S+)$/gm;

export interface MergedCore {
  /** The core module's file name in dist/, per format. */
  esm: string;
  cjs: string;
  /** How many chunks each holds. */
  chunks: number;
}

/** The chunks that `entries` (file names in dist/) reach through static imports, each with its static imports. */
function staticChunks(dist: string, entries: string[]): Set<string> {
  const found = new Set<string>();
  const walk = (file: string): void => {
    const text = readFileSync(join(dist, file), 'utf8');
    for (const [, name] of text.matchAll(ANY_CHUNK))
      if (name && CHUNK.test(name) && !found.has(name)) {
        found.add(name);
        walk(name);
      }
  };
  for (const entry of entries) walk(entry);
  return found;
}

/** Every name that an ESM chunk exports (`export { a, b as c };`, the form esbuild prints). */
function exportedNames(text: string): string[] {
  const names: string[] = [];
  for (const [, list = ''] of text.matchAll(/^export\s*\{([^}]*)\}\s*;/gm))
    for (const spec of list.split(',')) {
      const name = spec
        .trim()
        .split(/\s+as\s+/)
        .pop();
      if (name) names.push(name);
    }
  return names;
}

/** Bundles `source` (an entry written into dist/) with every module outside `inside` left as an import. */
async function bundle(
  dist: string,
  source: string,
  inside: Set<string>,
  format: 'esm' | 'cjs',
): Promise<string> {
  const ext = format === 'esm' ? 'js' : 'cjs';
  const entry = join(dist, `_core-entry.${ext}`);
  writeFileSync(entry, source);
  for (const chunk of inside) {
    const text = readFileSync(join(dist, chunk), 'utf8');
    writeFileSync(join(dist, chunk), text.replace(SOURCE_MARK, '$1//! $2'));
  }
  try {
    const out = await build({
      entryPoints: [entry],
      outfile: join(dist, `core.${ext}`),
      bundle: true,
      write: false,
      format,
      platform: 'node',
      target: 'node20',
      sourcemap: 'external',
      logLevel: 'warning',
      legalComments: 'inline',
      plugins: [
        {
          name: 'core-chunks-only',
          setup(b) {
            b.onResolve({ filter: /.*/ }, (a) =>
              a.kind === 'entry-point' || (a.path.startsWith('./') && inside.has(a.path.slice(2)))
                ? undefined
                : { path: a.path, external: true },
            );
          },
        },
      ],
    });
    const code = (out.outputFiles.find((f) => !f.path.endsWith('.map'))?.text ?? '').replace(
      LEGAL_MARK,
      '$1// $2',
    );
    const map = out.outputFiles.find((f) => f.path.endsWith('.map'))?.text ?? '';
    const name = `core-${createHash('sha256').update(code).digest('hex').slice(0, 8).toUpperCase()}.${ext}`;
    writeFileSync(
      join(dist, name),
      code.replace(/\/\/# sourceMappingURL=.*$/m, `//# sourceMappingURL=${name}.map`),
    );
    writeFileSync(join(dist, `${name}.map`), map);
    return name;
  } finally {
    rmSync(entry, { force: true });
  }
}

/** Rewrites every other file of `ext` to import the core instead of the merged chunks, then removes those. */
function rewrite(
  dist: string,
  ext: string,
  merged: Set<string>,
  rename: (file: string, text: string) => string,
) {
  for (const file of readdirSync(dist)) {
    if (!file.endsWith(`.${ext}`) || merged.has(file) || file.startsWith('core-')) continue;
    const text = readFileSync(join(dist, file), 'utf8');
    const next = rename(file, text);
    for (const [, name] of next.matchAll(ANY_CHUNK))
      if (name && merged.has(name)) throw new Error(`merge-core-chunks: ${file} still names ${name}`);
    if (next !== text) writeFileSync(join(dist, file), next);
  }
  for (const chunk of merged) {
    rmSync(join(dist, chunk));
    rmSync(join(dist, `${chunk}.map`), { force: true });
  }
}

/** Keeps the first of identical side-effect-only import lines (the core, once per chunk it replaced). */
function dedupe(text: string, line: string): string {
  let first = true;
  return text.replaceAll(`${line}\n`, () => {
    const keep = first;
    first = false;
    return keep ? `${line}\n` : '';
  });
}

async function mergeEsm(dist: string, entries: string[]): Promise<{ name: string; chunks: number }> {
  const merged = staticChunks(
    dist,
    entries.map((e) => `${e}.js`),
  );
  // Two chunks may export one name for two symbols (esbuild names each chunk's exports on its own): such a name
  // leaves the core suffixed with its chunk's id, and each import of it is renamed back.
  const exports = new Map<string, string[]>();
  const count = new Map<string, number>();
  for (const chunk of merged) {
    const names = exportedNames(readFileSync(join(dist, chunk), 'utf8'));
    exports.set(chunk, names);
    for (const n of names) count.set(n, (count.get(n) ?? 0) + 1);
  }
  const coreName = (n: string, chunk: string) => ((count.get(n) ?? 0) > 1 ? `${n}$${chunk.slice(6, -3)}` : n);
  const source = [...merged]
    .map((c) => {
      const specs = (exports.get(c) ?? []).map((n) =>
        coreName(n, c) === n ? n : `${n} as ${coreName(n, c)}`,
      );
      return `export { ${specs.join(', ')} } from './${c}';\n`;
    })
    .join('');
  const name = await bundle(dist, source, merged, 'esm');
  rewrite(dist, 'js', merged, (_file, text) => {
    const named = text.replace(ESM_FROM, (all, keyword: string, list: string, chunk: string) => {
      if (!merged.has(chunk)) return all;
      const specs = list
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((s) => {
          const [imported = '', local] = s.split(/\s+as\s+/);
          const inCore = coreName(imported, chunk);
          return inCore === imported ? s : `${inCore} as ${local ?? imported}`;
        });
      return `${keyword} { ${specs.join(', ')} } from './${name}';`;
    });
    const bare = named.replace(ESM_BARE, (all, chunk: string) =>
      merged.has(chunk) ? `import './${name}';` : all,
    );
    return dedupe(bare, `import './${name}';`);
  });
  return { name, chunks: merged.size };
}

async function mergeCjs(dist: string, entries: string[]): Promise<string> {
  const merged = staticChunks(
    dist,
    entries.map((e) => `${e}.cjs`),
  );
  // CommonJS chunks are read as namespaces (`chunkX_cjs.name`): the core exports each chunk's under its id.
  const id = (chunk: string) => chunk.slice(6, -4);
  const source = `module.exports = {\n${[...merged].map((c) => `  '${id(c)}': require('./${c}'),\n`).join('')}};\n`;
  const name = await bundle(dist, source, merged, 'cjs');
  rewrite(dist, 'cjs', merged, (_file, text) => {
    const named = text.replace(CJS_VAR, (all, local: string, chunk: string) =>
      merged.has(chunk) ? `var ${local} = require('./${name}')['${id(chunk)}'];` : all,
    );
    const bare = named.replace(CJS_BARE, (all, chunk: string) =>
      merged.has(chunk) ? `require('./${name}');` : all,
    );
    return dedupe(bare, `require('./${name}');`);
  });
  return name;
}

/**
 * Merges the chunks that `entries` (entry names, e.g. `express`) load at import into one core module per format.
 * Throws when a file would still name a merged chunk, so that a change in tsup's output fails the build.
 */
export async function mergeCoreChunks(dist: string, entries: string[]): Promise<MergedCore> {
  const esm = await mergeEsm(dist, entries);
  const cjs = await mergeCjs(dist, entries);
  return { esm: esm.name, cjs, chunks: esm.chunks };
}
