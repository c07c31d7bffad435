import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The runtimes besides Node (Bun, Deno, workerd through Miniflare) live in a package of their own,
 * test/runtimes, so that a newcomer's `npm install` does not download their few hundred MB of binaries.
 * `.ci/run` installs it (`npm ci --prefix test/runtimes`); so does anyone who wants those tests locally.
 */
export const runtimesDir = fileURLToPath(new URL('../runtimes/', import.meta.url));
export const INSTALL_RUNTIMES = 'npm ci --prefix test/runtimes';
const require = createRequire(join(runtimesDir, 'package.json'));

/** The directory of a package installed in test/runtimes, or undefined. */
function packageDir(name: string): string | undefined {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

const works = (path: string) => spawnSync(path, ['--version'], { timeout: 20_000 }).status === 0;

/**
 * The executable of the `bun` or `deno` npm package. Their postinstall scripts put it in place, but npm may
 * skip install scripts it was not told to allow: then the binary is still in the platform package that npm
 * installed as an optional dependency, which is where this looks next. Undefined when neither runs.
 */
export function runtimeBinary(name: 'bun' | 'deno'): string | undefined {
  const main = packageDir(name);
  if (!main) return undefined;
  const candidates = [name === 'bun' ? join(main, 'bin', 'bun.exe') : join(main, 'deno')];
  const { optionalDependencies = {} } = JSON.parse(readFileSync(join(main, 'package.json'), 'utf8')) as {
    optionalDependencies?: Record<string, string>;
  };
  for (const platform of Object.keys(optionalDependencies)) {
    const dir = packageDir(platform);
    if (dir) candidates.push(name === 'bun' ? join(dir, 'bin', 'bun') : join(dir, 'deno'));
  }
  return candidates.find(works);
}

/** A worker module, as Wrangler would upload it. */
export interface WorkerModule {
  type: 'ESModule' | 'Data';
  path: string;
  contents: Uint8Array;
}

/** The part of Miniflare the tests and the bench use (its own types are installed with it, in test/runtimes). */
export interface Workerd {
  dispatchFetch(url: string, init?: RequestInit): Promise<Response>;
  dispose(): Promise<void>;
}

/**
 * A workerd instance through test/runtimes' Miniflare running `modules`, with `nodejs_compat` (mmdb-lib, the
 * MMDB reader, uses Buffer). Undefined when Miniflare is not installed there.
 */
export function startWorkerd(modules: WorkerModule[]): Workerd | undefined {
  if (!packageDir('miniflare')) return undefined;
  const { Miniflare } = require('miniflare') as {
    Miniflare: new (options: object) => Workerd;
  };
  return new Miniflare({
    modules,
    compatibilityDate: '2026-04-26',
    compatibilityFlags: ['nodejs_compat'],
  });
}

/** Whether Miniflare is installed in test/runtimes. */
export const hasMiniflare = () => packageDir('miniflare') !== undefined;

/** The bundled GeoIP file as installed beside a packed-tarball consumer in `dir`. */
export function installedMmdb(dir: string): Buffer {
  return readFileSync(
    createRequire(join(dir, 'package.json')).resolve(
      '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb',
    ),
  );
}

/** The bundled IP-nature snapshot as installed beside a packed-tarball consumer in `dir` (package.json `files`). */
export function installedNature(dir: string): Buffer {
  return readFileSync(join(dir, 'node_modules', 'ipmatch', 'data', 'ip-nature.bin'));
}

/**
 * `entry` bundled as Wrangler bundles a worker: esbuild with workerd's conditions, and the `.mmdb` and `.bin`
 * left as modules of their own, as Data rules make them (import them as `./geo.mmdb` and `./ip-nature.bin`).
 */
export async function bundleForWorkers(
  entry: string,
  options: { minify?: boolean } = {},
): Promise<Uint8Array> {
  const { build } = await import('esbuild');
  const bundled = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    minify: options.minify ?? false,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    external: ['./geo.mmdb', './ip-nature.bin'],
    logLevel: 'silent',
  });
  return bundled.outputFiles[0]!.contents;
}
