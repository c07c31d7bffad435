import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { installTarball } from '../helpers/tarball.js';

/**
 * The installed package's `ipmatch/express` opens two of its own files at import, its entry and the one core
 * module (scripts/merge-core-chunks.ts), as ESM and as CJS; and every entry point shares that core, so an error
 * raised through one is an instance of the class exported by another.
 */
let work: string;
beforeAll(() => {
  work = installTarball('core-module');
}, 240_000);

const run = (file: string, body: string): unknown => {
  writeFileSync(join(work, file), body);
  return JSON.parse(execFileSync(process.execPath, [file], { cwd: work, encoding: 'utf8', timeout: 30_000 }));
};

const ENTRIES = [
  'ipmatch',
  'ipmatch/express',
  'ipmatch/koa',
  'ipmatch/fastify',
  'ipmatch/fetch',
  'ipmatch/hono',
];

describe('one core module behind every entry point', () => {
  it('ESM: importing ipmatch/express loads its entry and the core from dist, and decides', () => {
    const got = run(
      'graph.mjs',
      `import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
const dist = path.dirname(createRequire(import.meta.url).resolve('ipmatch/express'));
const loaded = [];
const reach = (file) => {
  if (loaded.includes(file)) return;
  loaded.push(file);
  const text = fs.readFileSync(path.join(dist, file), 'utf8');
  for (const m of text.matchAll(/^(?:import|export)[^;]*?from ['"]\\.\\/([^'"]+)['"]|^import ['"]\\.\\/([^'"]+)['"]/gm)) reach(m[1] ?? m[2]);
};
reach('express.js');
const { createIpMatch } = await import('ipmatch/express');
const decision = await createIpMatch().check({ phone: '+447400123456', ip: '81.2.69.160' });
console.log(JSON.stringify({ loaded, level: decision.matchLevel }));`,
    );
    expect(got).toEqual({
      loaded: ['express.js', expect.stringMatching(/^core-[0-9A-F]+\.js$/)],
      level: 'country',
    });
  });

  it('CJS: requiring ipmatch/express loads its entry and the core from dist, and decides', async () => {
    const got = run(
      'graph.cjs',
      `const m = require('ipmatch/express');
const loaded = Object.keys(require.cache).filter((f) => f.includes('/ipmatch/dist/')).map((f) => f.split('/').pop());
m.createIpMatch().check({ phone: '+447400123456', ip: '81.2.69.160' }).then((d) => {
  console.log(JSON.stringify({ loaded, level: d.matchLevel }));
});`,
    );
    expect(got).toEqual({
      loaded: ['express.cjs', expect.stringMatching(/^core-[0-9A-F]+\.cjs$/)],
      level: 'country',
    });
  });

  it("a number that needs libphonenumber-js's parser loads it as one file of dist, not the package's modules", () => {
    const got = run(
      'parser.cjs',
      `const m = require('ipmatch/express');
const ipm = m.createIpMatch({ defaultCountry: 'GB', logger: { warn() {}, error() {} } });
ipm.check({ phone: '07400 123456', ip: '81.2.69.160' }).then((d) => {
  const files = Object.keys(require.cache);
  console.log(JSON.stringify({
    reason: d.reason,
    parser: files.filter((f) => /[\\\\/]ipmatch[\\\\/]dist[\\\\/]phone-full-/.test(f)).length,
    package: files.filter((f) => /[\\\\/]libphonenumber-js[\\\\/]/.test(f) && !/metadata/.test(f)).length,
  }));
});`,
    );
    expect(got).toEqual({ reason: 'country_match', parser: 1, package: 0 });
  });

  it('the core holds no updater code, in either format: that stays in a chunk loaded on the first updateDatabase()', () => {
    // A message of src/data/update.ts, which bundling keeps as it is.
    const marker = 'another updater took the lock over while this one ran';
    const dist = join(work, 'node_modules', 'ipmatch', 'dist');
    const holding = readdirSync(dist).filter(
      (f) => /\.c?js$/.test(f) && readFileSync(join(dist, f), 'utf8').includes(marker),
    );
    expect(holding.length).toBeGreaterThanOrEqual(2);
    expect(holding.filter((f) => f.startsWith('core-'))).toEqual([]);
  });

  it.each(['mjs', 'cjs'])(
    '%s: every entry point exports the same classes, and errors raised by one are instances of all',
    (ext) => {
      const load = ext === 'mjs' ? (e: string) => `await import('${e}')` : (e: string) => `require('${e}')`;
      const body = `const entries = [${ENTRIES.map(load).join(', ')}];
const [root, express, koa] = entries;
let raised;
try { koa.ipMatch({ mode: 'nope' }); } catch (e) { raised = e; }
console.log(JSON.stringify({
  config: entries.every((m) => m.IpMatchConfigError === root.IpMatchConfigError),
  provider: entries.every((m) => m.ProviderError === root.ProviderError),
  data: entries.every((m) => m.IpMatchDataError === root.IpMatchDataError),
  createIpMatch: entries.every((m) => m.createIpMatch === root.createIpMatch),
  raised: raised instanceof express.IpMatchConfigError && raised instanceof root.IpMatchConfigError,
}));`;
      const got = run(
        `classes.${ext === 'mjs' ? 'mjs' : 'cjs'}`,
        ext === 'mjs' ? body : `(async () => { ${body} })();`,
      );
      expect(got).toEqual({ config: true, provider: true, data: true, createIpMatch: true, raised: true });
    },
  );
});
