import { execFile } from 'node:child_process';
import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  bundleForWorkers,
  hasMiniflare,
  INSTALL_RUNTIMES,
  installedMmdb,
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
async function run(command: string, args: string[]) {
  const { stdout } = await promisify(execFile)(command, args, {
    cwd: dir,
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
});
