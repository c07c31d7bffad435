import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The packed tarball, built once per change of the sources and shared by the test files that install it:
 * they run in parallel, and two builds at once would clean each other's dist/.
 */
export const root = fileURLToPath(new URL('../..', import.meta.url));
const packDir = join(root, '.tmp', 'pack');
const lock = join(root, '.tmp', 'pack.lock');

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** The newest modification time among what goes into the tarball. */
function newestSource(): number {
  let newest = 0;
  const walk = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const path of [
    'src',
    'package.json',
    'tsup.config.ts',
    'scripts/merge-core-chunks.ts',
    'README.md',
    'SECURITY.md',
    'docs',
    'examples',
  ])
    walk(join(root, path));
  return newest;
}

/** Builds and packs, unless a tarball newer than every source is already there. Returns its path. */
export function packedTarball(): string {
  mkdirSync(join(root, '.tmp'), { recursive: true });
  for (const deadline = Date.now() + 600_000; ; sleep(250)) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than the deadline belongs to a run that died mid-build.
      if (Date.now() > deadline || Date.now() - statSync(lock).mtimeMs > 600_000)
        rmSync(lock, { force: true, recursive: true });
    }
  }
  try {
    const existing = existsSync(packDir) ? readdirSync(packDir).find((f) => f.endsWith('.tgz')) : undefined;
    const tgz = existing && join(packDir, existing);
    if (tgz && statSync(tgz).mtimeMs > newestSource()) return tgz;
    rmSync(packDir, { recursive: true, force: true });
    mkdirSync(packDir, { recursive: true });
    // Build first, as prepack does on publish, then pack without scripts so stdout holds only npm's JSON.
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
    const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], {
      cwd: root,
      encoding: 'utf8',
    });
    const [{ filename }] = JSON.parse(out) as [{ filename: string }];
    return join(packDir, filename);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * A consumer project under .tmp/ with the tarball installed as node_modules/ipmatch, the way npm lays it out.
 * Living inside the repo, the package's own dependencies (and hono, fastify…) resolve from the repo's
 * node_modules without a network. Returns the consumer's directory.
 */
export function installTarball(name: string): string {
  const work = join(root, '.tmp', name);
  const installed = join(work, 'node_modules', 'ipmatch');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', packedTarball(), '-C', installed, '--strip-components=1']);
  writeFileSync(
    join(work, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  return work;
}
