import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileNature, writeNatureTable } from '../../src/geodata/nature/index.js';
import {
  bundleForWorkers,
  hasMiniflare,
  INSTALL_RUNTIMES,
  installedMmdb,
  installedNature,
  runtimeBinary,
  startWorkerd,
  type Workerd,
} from '../helpers/runtimes.js';
import { installTarball, root } from '../helpers/tarball.js';

/**
 * One smoke scenario on every runtime ipmatch claims, run from the packed tarball: a GB phone from a GB IP is
 * created (201), from a KR IP refused (403 ip_phone_mismatch), through ipmatch/hono and ipmatch/fetch (and
 * ipmatch/fastify and the Next.js example on Node). The apps are test/fixtures/runtimes/*.mjs. Bun, Deno and
 * workerd come from test/runtimes, outside the default install: under CI=true a missing one fails, elsewhere
 * its test is skipped, saying how to install it.
 */
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
const fixtures = join(root, 'test', 'fixtures', 'runtimes');
const bun = runtimeBinary('bun');
const deno = runtimeBinary('deno');
const workerd = hasMiniflare();
for (const [name, found] of [
  ['bun', bun !== undefined],
  ['deno', deno !== undefined],
  ['workerd (miniflare)', workerd],
] as const) {
  if (found) continue;
  if (IN_CI) throw new Error(`no working ${name} from test/runtimes under CI=true: ${INSTALL_RUNTIMES}`);
  console.warn(`runtimes.test: skipping ${name}: not installed. To run it: ${INSTALL_RUNTIMES}`);
}

let dir = '';
beforeAll(() => {
  dir = installTarball('runtimes');
  for (const file of readdirSync(fixtures)) copyFileSync(join(fixtures, file), join(dir, file));
  copyFileSync(join(root, 'examples', 'next-route-handler.ts'), join(dir, 'next-route-handler.ts'));
}, 600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a script in the consumer project and parses the JSON line it prints. */
async function run(command: string, args: string[], env?: NodeJS.ProcessEnv) {
  const { stdout } = await promisify(execFile)(command, args, {
    cwd: dir,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    results: Record<string, { status: number; error: string | null }>;
    peer?: string;
  };
}

const PASSED = { status: 201, error: null };
const BLOCKED = { status: 403, error: 'ip_phone_mismatch' };
const both = { hono_gb: PASSED, hono_kr: BLOCKED, fetch_gb: PASSED, fetch_kr: BLOCKED };

describe('Node', () => {
  test('Hono on @hono/node-server, and ipmatch/fetch, with the socket peer as Hono sees it', async () => {
    const { results, peer } = await run(process.execPath, ['serve.mjs']);
    expect(results).toEqual(both);
    expect(peer).toMatch(/127\.0\.0\.1$/);
  });

  test('Fastify with ipmatch/fastify and ipMatchPlugin', async () => {
    const { results } = await run(process.execPath, ['fastify.mjs']);
    expect(results).toEqual({ signup_gb: PASSED, signup_kr: BLOCKED });
  });

  test("the Next.js example's POST handler", async () => {
    const { results } = await run(process.execPath, ['--import', 'tsx', 'next.mjs']);
    expect(results).toEqual({ signup_gb: PASSED, signup_kr: BLOCKED });
  });
});

test.skipIf(!bun)('Bun: Bun.serve with ipmatch/hono and ipmatch/fetch', async () => {
  const { results, peer } = await run(bun!, ['serve.mjs']);
  expect(results).toEqual(both);
  expect(peer).toBe('127.0.0.1');
});

test.skipIf(!deno)('Deno: Deno.serve with ipmatch/hono and ipmatch/fetch', async () => {
  const { results, peer } = await run(deno!, [
    'run',
    '--allow-net=127.0.0.1',
    '--allow-read',
    '--allow-env',
    '--allow-sys',
    'serve.mjs',
  ]);
  expect(results).toEqual(both);
  expect(peer).toBe('127.0.0.1');
});

/**
 * The IP-nature data on Node, Bun and Deno: read from the data dir (IPMATCH_DATA_DIR) with no option, as
 * `ipmatch db update` installs it. The data dir's file lists one Tor exit and was built after the bundled
 * snapshot, so it is the one in use: the bundled AWS address is not flagged.
 */
describe('IP-nature data from the data dir', () => {
  const NATURE = {
    '81.2.71.77': { signals: ['tor_exit'], network: 'tor' },
    '3.8.0.1': { signals: [], network: null },
  };
  let env: NodeJS.ProcessEnv = {};
  beforeAll(() => {
    const dataDir = join(dir, 'data-dir');
    mkdirSync(dataDir, { recursive: true });
    const exit = { family: 4 as const, first: 0x51_02_47_4dn, last: 0x51_02_47_4dn }; // 81.2.71.77
    const compiled = compileNature([{ name: 'tor', version: null, ranges: [exit] }]);
    writeFileSync(join(dataDir, 'ip-nature.bin'), writeNatureTable(compiled, new Date().toISOString()));
    env = { ...process.env, IPMATCH_DATA_DIR: dataDir };
  });

  test('Node', async () => {
    expect(await run(process.execPath, ['nature.mjs'], env)).toEqual({
      runtime: 'node',
      decisions: NATURE,
    });
  });

  test.skipIf(!bun)('Bun', async () => {
    expect(await run(bun!, ['nature.mjs'], env)).toEqual({ runtime: 'bun', decisions: NATURE });
  });

  test.skipIf(!deno)('Deno', async () => {
    const args = ['run', '--allow-read', '--allow-env', '--allow-sys', 'nature.mjs'];
    expect(await run(deno!, args, env)).toEqual({ runtime: 'deno', decisions: NATURE });
  });
});

describe.skipIf(!workerd)('Cloudflare Workers (workerd through Miniflare)', () => {
  let mf: Workerd | undefined;
  afterAll(() => mf?.dispose());

  test('bundled as Wrangler does, with the GeoIP data as a Data module', async () => {
    const worker = await bundleForWorkers(join(dir, 'worker.mjs'));
    mf = startWorkerd([
      { type: 'ESModule', path: join(dir, 'worker.mjs'), contents: worker },
      { type: 'Data', path: join(dir, 'geo.mmdb'), contents: installedMmdb(dir) },
    ]);
    const { scenario } = (await import(join(dir, 'app.mjs'))) as {
      scenario: (
        send: (path: string, init: RequestInit) => Promise<Response>,
        header: string,
      ) => Promise<object>;
    };
    const send = (path: string, init: RequestInit) => mf!.dispatchFetch(`http://worker.example${path}`, init);
    expect(await scenario(send, 'cf-connecting-ip')).toEqual(both);
  });

  test("the IP-nature data as bytes: the package's data/ip-nature.bin as a Data module", async () => {
    const worker = await bundleForWorkers(join(dir, 'worker-nature.mjs'));
    const nature = startWorkerd([
      { type: 'ESModule', path: join(dir, 'worker-nature.mjs'), contents: worker },
      { type: 'Data', path: join(dir, 'geo.mmdb'), contents: installedMmdb(dir) },
      { type: 'Data', path: join(dir, 'ip-nature.bin'), contents: installedNature(dir) },
    ])!;
    try {
      const seen: Record<string, unknown> = {};
      for (const ip of ['3.8.0.1', '185.220.101.33', '81.2.69.160']) {
        const res = await nature.dispatchFetch('http://worker.example/nature', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'cf-connecting-ip': ip },
          body: JSON.stringify({ phone: '+447400123456' }),
        });
        seen[ip] = await res.json();
      }
      expect(seen).toEqual({
        '3.8.0.1': { signals: ['hosting'], network: 'aws' },
        '185.220.101.33': { signals: ['tor_exit'], network: 'tor' },
        '81.2.69.160': { signals: [], network: null },
      });
    } finally {
      await nature.dispose();
    }
  });
});
