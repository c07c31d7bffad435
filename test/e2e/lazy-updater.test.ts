import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { installTarball } from '../helpers/tarball.js';

/**
 * A cold start loads only what a check needs: the updater (downloads, archives, feeds) loads on the first call
 * of `updateDatabase`, from the installed package, as CJS and as ESM, and rejects as it always did.
 */
let work: string;
beforeAll(() => {
  work = installTarball('lazy-updater');
}, 240_000);

const run = (file: string, body: string): string => {
  writeFileSync(join(work, file), body);
  return execFileSync(process.execPath, [file], { cwd: work, encoding: 'utf8', timeout: 30_000 });
};

describe('the updater is loaded on first use, not at import', () => {
  it('CJS: requiring ipmatch/express loads no updater module; updateDatabase then loads it and rejects bad options', () => {
    const out = run(
      'lazy.cjs',
      `const fs = require('node:fs');
const loaded = () => Object.keys(require.cache).some((f) => f !== __filename && fs.readFileSync(f, 'utf8').includes('// src/data/update.ts'));
const m = require('ipmatch/express');
const before = loaded();
m.updateDatabase({ source: 'nope' }).catch((e) => {
  console.log(JSON.stringify({ before, after: loaded(), config: e instanceof m.IpMatchConfigError }));
});`,
    );
    expect(JSON.parse(out)).toEqual({ before: false, after: true, config: true });
  });

  it('ESM: the import of ipmatch/express names no updater chunk; updateDatabase still rejects bad options', () => {
    const out = run(
      'lazy.mjs',
      `import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
const dist = path.dirname(createRequire(import.meta.url).resolve('ipmatch/express'));
const seen = new Set();
const reach = (file) => {
  if (seen.has(file)) return;
  seen.add(file);
  const text = fs.readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^(?:import|export)[^;]*?from ['"](\\.[^'"]+)['"]/gm)) reach(path.join(dist, m[1]));
};
reach(path.join(dist, 'express.js'));
const eager = [...seen].some((f) => fs.readFileSync(f, 'utf8').includes('// src/data/update.ts'));
const m = await import('ipmatch/express');
const e = await m.updateDatabase({ source: 'nope' }).catch((err) => err);
console.log(JSON.stringify({ files: seen.size, eager, config: e instanceof m.IpMatchConfigError }));`,
    );
    const got = JSON.parse(out);
    expect(got.files).toBeGreaterThanOrEqual(2); // the entry and the core module it imports (scripts/merge-core-chunks.ts)
    expect(got).toMatchObject({ eager: false, config: true });
  });
});
