import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countryDb, sha256 } from '../fixtures/geo-data.js';
import { type ConnectProxy, startConnectProxy } from '../helpers/connect-proxy.js';
import { type DataServer, startDataServer } from '../helpers/data-server.js';

// The path companies take: an https source reached only through an http proxy's CONNECT tunnel. The source's
// name (reserved .test) resolves nowhere but at the proxy, which sends it to the loopback https data server;
// the child process trusts that server's self-signed certificate through NODE_EXTRA_CA_CERTS.
const root = fileURLToPath(new URL('../..', import.meta.url));
const tls = join(root, 'test/fixtures/tls');
const work = mkdtempSync(join(tmpdir(), 'ipmatch-cli-proxy-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;

const GB = countryDb('GB', 2);
const TOKEN = 'tok_Never_To_The_Proxy_5e6f';
const PROXY_PASSWORD = 'proxy_pw_Not_Printed_77';
const HOST = 'ipmatch-data.test';
const baseEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !/^(VONAGE_|MAXMIND_|IPINFO_|IPMATCH_DATA_DIR|https?_proxy|no_proxy)/i.test(k),
  ),
);

function ipmatch(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: root,
    env: { ...baseEnv, NODE_EXTRA_CA_CERTS: join(tls, `${HOST}.crt`), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let server: DataServer;
let proxy: ConnectProxy;
let refusing: ConnectProxy;
let source: string;
beforeAll(async () => {
  server = await startDataServer(
    {
      '/ipinfo_lite.mmdb': GB,
      '/ipinfo_lite.mmdb/checksums': JSON.stringify({ checksums: { sha256: sha256(GB) } }),
    },
    { tls: { key: readFileSync(join(tls, `${HOST}.key`)), cert: readFileSync(join(tls, `${HOST}.crt`)) } },
  );
  const toLoopback = (host: string) => (host === HOST ? '127.0.0.1' : host);
  proxy = await startConnectProxy({ resolve: toLoopback });
  refusing = await startConnectProxy({ status: 407 });
  source = `https://${HOST}:${new URL(server.url).port}/ipinfo_lite.mmdb`;
});
afterAll(async () => {
  await Promise.all([server?.close(), proxy?.close(), refusing?.close()]);
});

const update = (extra: string[] = []) => [
  'db',
  'update',
  '--source',
  'ipinfo-lite',
  '--url',
  source,
  '--dir',
  join(work, `d${n++}`),
  '--json',
  ...extra,
];

describe('ipmatch db update behind a proxy', { timeout: 120_000 }, () => {
  it.each(['HTTPS_PROXY', 'https_proxy'])(
    'goes through the CONNECT proxy in %s; the proxy sees host:port only, never the token',
    async (name) => {
      const before = proxy.connects.length;
      const run = await ipmatch(update(), { [name]: proxy.url, IPINFO_TOKEN: TOKEN });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ status: 'updated', sha256: sha256(GB) });
      const seen = proxy.connects.slice(before);
      expect(seen.map((c) => c.target)).toEqual([
        `${HOST}:${new URL(server.url).port}`,
        `${HOST}:${new URL(server.url).port}`,
      ]);
      expect(JSON.stringify(seen)).not.toContain(TOKEN);
      expect(proxy.plain).toBe(0);
      expect(server.requests.at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN}`); // inside the tunnel's TLS
    },
  );

  it('bypasses the proxy for a host in NO_PROXY, and then says the source cannot be resolved, with the next steps', async () => {
    const before = proxy.connects.length;
    const run = await ipmatch(update(), {
      HTTPS_PROXY: proxy.url,
      NO_PROXY: `localhost,.${HOST.split('.')[1]}`,
      IPINFO_TOKEN: TOKEN,
    });
    expect(proxy.connects.length).toBe(before);
    expect(run.code).toBe(2);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({
      status: 'failed',
      error: {
        code: 'unreachable',
        message: expect.stringContaining(`${HOST}`),
        hint: expect.stringMatching(
          /^Nothing changed: the bundled data \(built \d{4}-\d\d-\d\d\) stays in use\. Next: check the proxy/,
        ),
      },
    });
    expect(out.error.message).toContain('DNS lookup failed');
    expect(run.stderr).toMatch(/db update failed \(unreachable\): .*DNS lookup failed\. Nothing changed/);
  });

  it('names a proxy that refuses (407) or is down, without its password, and exits 2 with the hint', async () => {
    const withPassword = (url: string) => url.replace('http://', `http://user:${PROXY_PASSWORD}@`);
    const closed = proxy.url.replace(/:\d+$/, ':1');
    const [denied, down] = await Promise.all([
      ipmatch(update(), { HTTPS_PROXY: withPassword(refusing.url), IPINFO_TOKEN: TOKEN }),
      ipmatch(update(), { https_proxy: withPassword(closed), IPINFO_TOKEN: TOKEN }),
    ]);
    for (const run of [denied, down]) {
      expect(run.code).toBe(2);
      expect(run.stdout + run.stderr).not.toContain(PROXY_PASSWORD);
      expect(run.stdout + run.stderr).not.toContain(TOKEN);
      expect(JSON.parse(run.stdout).error).toMatchObject({
        code: 'unreachable',
        hint: expect.stringContaining('--url URL'),
      });
    }
    expect(JSON.parse(denied.stdout).error.message).toContain(
      `the proxy ${refusing.url}/ (HTTPS_PROXY) answered HTTP 407 to CONNECT (it wants credentials`,
    );
    expect(JSON.parse(down.stdout).error.message).toContain(
      `the proxy ${closed}/ (https_proxy) cannot be reached: connection refused`,
    );
    expect(JSON.stringify(refusing.connects)).not.toContain(TOKEN);
  });
});
