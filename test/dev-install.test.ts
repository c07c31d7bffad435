import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';

/**
 * A newcomer's `npm install` brings what the library and its everyday tests need, not the few hundred MB of
 * runtime binaries (Bun, Deno, workerd) that only the runtime tests use: those live in test/runtimes, pinned with
 * a lockfile of their own, and CI installs them before it tests.
 */
const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
type Manifest = {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  scripts: Record<string, string>;
};
const RUNTIMES = ['bun', 'deno', 'miniflare'];

test('the root package installs no runtime binaries', () => {
  const root = JSON.parse(read('package.json')) as Manifest;
  const installed = { ...root.dependencies, ...root.devDependencies };
  for (const name of RUNTIMES) expect(installed, name).not.toHaveProperty(name);
});

test('test/runtimes pins each runtime exactly, with a lockfile that agrees', () => {
  const nested = JSON.parse(read('test/runtimes/package.json')) as Manifest;
  const lock = JSON.parse(read('test/runtimes/package-lock.json')) as {
    packages: Record<string, { version?: string }>;
  };
  for (const name of RUNTIMES) {
    const version = nested.dependencies?.[name];
    expect(version, name).toMatch(/^\d+\.\d+\.\d+$/);
    expect(lock.packages[`node_modules/${name}`]?.version, name).toBe(version);
  }
});

test('CI installs test/runtimes before it tests, through the script a developer runs', () => {
  const { scripts } = JSON.parse(read('package.json')) as Manifest;
  expect(scripts['setup:runtimes']).toBe('npm ci --prefix test/runtimes --no-audit --no-fund');
  const ci = read('.ci/run');
  expect(ci.indexOf('npm run setup:runtimes')).toBeGreaterThan(ci.indexOf('npm ci --no-audit'));
  expect(ci.indexOf('npm run setup:runtimes')).toBeLessThan(ci.indexOf('npm test'));
});
