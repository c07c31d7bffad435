import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { commands, type QuickStart, quickStarts } from '../helpers/quickstarts.js';
import { packedTarball, root } from '../helpers/tarball.js';

/**
 * Every README quick start, copied verbatim into a fresh `npm init -y` project outside the repository, after the
 * README's own setup and install lines, with ipmatch installed from the packed tarball. Each server is started
 * with the README's run command and sent real signups over loopback.
 *
 * `npm init` and `npm pkg set` run for real. `npm install <names>` is played offline: each named package is
 * linked from the repository's node_modules (and ipmatch's dependencies beside it, as npm would install them),
 * so a package the install line forgets is missing, exactly as it would be for a newcomer.
 */
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const { setup, run, sections } = quickStarts(readme);

const GB_PHONE = '+447400123456';
const KR_IP = '211.234.0.1';

/** What each quick start answers to a GB phone sent with `x-forwarded-for: <a KR address>` from loopback. */
const EXPECTED: Record<string, { status: number; body: object } | 'script'> = {
  // Behind a proxy on this host: the header is the proxy's word, so the KR address is checked.
  Express: { status: 403, body: { error: 'ip_phone_mismatch', matchLevel: 'mismatch' } },
  Koa: { status: 403, body: { error: 'ip_phone_mismatch', matchLevel: 'mismatch' } },
  Fastify: { status: 403, body: { error: 'ip_phone_mismatch', matchLevel: 'mismatch' } },
  // Nothing in front: the header is ignored, and the loopback peer has no country.
  Hono: { status: 201, body: { matchLevel: 'unknown' } },
  // The peer is a proxy on this host (loopback), so the entry it appended is checked.
  'A fetch handler (Next.js, Workers, Bun, Deno)': {
    status: 403,
    body: { error: 'ip_phone_mismatch', matchLevel: 'mismatch' },
  },
  'Without a framework': 'script',
};

let tarball = '';
const projects: string[] = [];
beforeAll(() => {
  tarball = packedTarball();
}, 600_000);
afterAll(() => {
  for (const dir of projects) rmSync(dir, { recursive: true, force: true });
});

/** `npm install` as npm lays it out, from the repository's node_modules and the tarball, without a network. */
function install(project: string, names: string[]): void {
  const modules = join(project, 'node_modules');
  const link = (name: string) => {
    const target = join(root, 'node_modules', name);
    if (!existsSync(target)) throw new Error(`npm install ${name}: not in the repository's node_modules`);
    const path = join(modules, name);
    if (existsSync(path)) return;
    mkdirSync(dirname(path), { recursive: true });
    symlinkSync(target, path, 'dir');
    const { bin } = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')) as {
      bin?: string | Record<string, string>;
    };
    const bins = typeof bin === 'string' ? { [name.split('/').at(-1)!]: bin } : (bin ?? {});
    mkdirSync(join(modules, '.bin'), { recursive: true });
    for (const [command, file] of Object.entries(bins))
      symlinkSync(join(target, file), join(modules, '.bin', command));
  };
  for (const name of names) {
    if (name !== 'ipmatch') {
      link(name);
      continue;
    }
    const installed = join(modules, 'ipmatch');
    mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dependency of Object.keys(pkg.dependencies ?? {})) link(dependency);
  }
}

/** Runs one README shell line in the project: npm's own commands for real, `npm install` played offline. */
function shell(project: string, line: string): void {
  for (const [program, ...args] of commands(line)) {
    if (program !== 'npm') throw new Error(`the README runs \`${program}\`: teach this test what it does`);
    if (args[0] === 'install' || args[0] === 'i')
      install(
        project,
        args.slice(1).filter((a) => !a.startsWith('-')),
      );
    else execFileSync('npm', args, { cwd: project, stdio: 'ignore', timeout: 60_000 });
  }
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

/** Starts the README's run command; resolves with the first stdout line, or the output when it exits. */
function start(project: string, port: number) {
  const [program, ...args] = commands(run)[0]!;
  const child = spawn(program!, args, {
    cwd: project,
    env: { ...process.env, PORT: String(port), NODE_OPTIONS: '' },
    detached: true, // its own process group, so that stopping it stops tsx's child too
  });
  const out = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out.stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out.stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

function stop(child: ChildProcess): void {
  try {
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
}

async function until<T>(what: string, probe: () => T | undefined, ms = 90_000): Promise<T> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the README quick starts, copied verbatim into a fresh npm init -y project', () => {
  test('the README has each of them, with an install line each', () => {
    expect(sections.map((s) => s.name)).toEqual(Object.keys(EXPECTED));
    for (const s of sections) expect(s.install).toMatch(/^npm install ipmatch\b/);
    expect(setup).toMatch(/npm init -y/);
    expect(run).toMatch(/^npx tsx \S+\.ts$/);
  });

  test.each(sections.map((s) => [s.name, s] as const))(
    '%s',
    async (name, section: QuickStart) => {
      const project = mkdtempSync(join(tmpdir(), 'ipmatch-quickstart-'));
      projects.push(project);
      shell(project, setup);
      shell(project, section.install);
      writeFileSync(join(project, run.split(/\s+/).at(-1)!), section.code);
      const port = await freePort();
      const { child, out, exited } = start(project, port);
      try {
        const expected = EXPECTED[name]!;
        if (expected === 'script') {
          expect(await exited, out.stderr).toBe(0);
          expect(out.stdout).toBe('allow country_match\n');
          return;
        }
        const line = await until(`"${name}" to print its URL (${out.stderr})`, () => {
          if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${out.stderr}`);
          return out.stdout.includes('\n') ? out.stdout.slice(0, out.stdout.indexOf('\n')) : undefined;
        });
        const url = new RegExp(`http://localhost:${port}/\\S*`).exec(line)?.[0];
        expect(url, `its one line names http://localhost:${port}/…: ${line}`).toBeDefined();
        const signup = (phone: string) =>
          fetch(url!, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-forwarded-for': KR_IP },
            body: JSON.stringify({ phone }),
            signal: AbortSignal.timeout(30_000),
          });
        const res = await signup(GB_PHONE);
        expect({ status: res.status, body: await res.json() }).toMatchObject(expected);
        const bad = await signup('call me');
        expect({ status: bad.status, body: await bad.json() }).toMatchObject({
          status: 400,
          body: { error: 'invalid_phone' },
        });
        // One line on stdout, and on stderr at most the bundled data's one staleness line.
        expect(out.stdout.trimEnd().split('\n')).toHaveLength(1);
        expect(out.stderr.trimEnd().split('\n').filter(Boolean).length).toBeLessThanOrEqual(1);
      } finally {
        stop(child);
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      }
    },
    180_000,
  );
});
