import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { IpMatchDataError, updateDatabase } from 'ipmatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countryDb, sha256 } from '../fixtures/geo-data.js';
import { type DataServer, startDataServer, useDataServer } from '../helpers/data-server.js';

// A download no proxy carries goes over Node's own http/https: undici (15 to 20 MB of peak RSS on its first
// request) is loaded only for a proxy (bench/README.md, `ipmatch db update`'s peak RSS).
const root = fileURLToPath(new URL('../..', import.meta.url));
const data = useDataServer('ipmatch-direct-');
const GB = countryDb('GB', 2);

/** Runs one update in a fresh process and says which undici modules it loaded. */
async function undiciLoadedBy(options: object, env: Record<string, string>): Promise<string[]> {
  const script = `
    import { createRequire } from 'node:module';
    const { updateDatabase } = await import(${JSON.stringify(pathToFileURL(join(root, 'src/index.ts')).href)});
    const result = await updateDatabase(${JSON.stringify(options)});
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((m) => m.includes('undici'));
    console.log(JSON.stringify({ status: result.status, loaded }));`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
  );
  const out = JSON.parse(stdout) as { status: string; loaded: string[] };
  expect(out.status).toBe('updated');
  return out.loaded;
}

describe('a download that no proxy carries', { timeout: 120_000 }, () => {
  it('never loads undici: loopback with no proxy set, and loopback with HTTPS_PROXY and HTTP_PROXY set', async () => {
    data.server.routes.set('/gb.mmdb', GB);
    const options = (dir: string) => ({ url: `${data.server.url}/gb.mmdb`, sha256: sha256(GB), dir });
    const proxy = 'http://proxy.invalid:3128';
    const [plain, proxied] = await Promise.all([
      undiciLoadedBy(options(data.freshDir()), {}),
      undiciLoadedBy(options(data.freshDir()), { HTTPS_PROXY: proxy, HTTP_PROXY: proxy }),
    ]);
    expect(plain).toEqual([]);
    expect(proxied).toEqual([]);
  });

  it('holds the connect timeout: a server whose accept queue is full is given up in about connectTimeoutMs', async () => {
    // A listener with a backlog of 1 whose process is busy: the kernel queues two connections, then drops SYNs.
    const listener = spawn(
      process.execPath,
      [
        '-e',
        "const s = require('node:net').createServer(); s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => " +
          '{ console.log(s.address().port); const end = Date.now() + 20000; setTimeout(() => { while (Date.now() < end); }, 50); });',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const fillers: Socket[] = [];
    try {
      const port = await new Promise<number>((resolve) =>
        listener.stdout.once('data', (line) => resolve(Number(String(line)))),
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (let i = 0; i < 4; i++) fillers.push(connect(port, '127.0.0.1').on('error', () => {}));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const started = Date.now();
      const error = await updateDatabase({
        url: `http://127.0.0.1:${port}/gb.mmdb`,
        sha256: sha256(GB),
        dir: data.freshDir(),
        limits: { connectTimeoutMs: 300 },
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        code: 'unreachable',
        message: expect.stringContaining('could not connect in time'),
      });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      for (const socket of fillers) socket.destroy();
      listener.kill();
    }
  });

  describe('over https', () => {
    const cert = join(root, 'test/fixtures/tls/localhost.crt');
    let tls: DataServer;
    let url: string;
    beforeAll(async () => {
      const key = readFileSync(join(root, 'test/fixtures/tls/localhost.key'));
      tls = await startDataServer({ '/gb.mmdb': GB }, { tls: { key, cert: readFileSync(cert) } });
      url = `https://localhost:${new URL(tls.url).port}/gb.mmdb`;
    });
    afterAll(() => tls?.close());

    it('downloads from a server whose certificate NODE_EXTRA_CA_CERTS trusts, and never loads undici', async () => {
      const options = { url, sha256: sha256(GB), dir: data.freshDir() };
      expect(await undiciLoadedBy(options, { NODE_EXTRA_CA_CERTS: cert })).toEqual([]);
      expect(tls.count('/gb.mmdb')).toBe(1);
    });

    it('checks the certificate: one this process does not trust (self-signed) is refused', async () => {
      const before = tls.count('/gb.mmdb');
      const error = await updateDatabase({
        url,
        sha256: sha256(GB),
        dir: data.freshDir(),
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(IpMatchDataError);
      expect(error).toMatchObject({ code: 'download_failed' });
      expect(tls.count('/gb.mmdb')).toBe(before);
    });
  });
});
