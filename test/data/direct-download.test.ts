import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

  describe('over https', () => {
    let tls: DataServer;
    beforeAll(async () => {
      const fixture = (ext: string) => readFileSync(join(root, `test/fixtures/tls/ipmatch-data.test.${ext}`));
      tls = await startDataServer({ '/gb.mmdb': GB }, { tls: { key: fixture('key'), cert: fixture('crt') } });
    });
    afterAll(() => tls?.close());

    it('checks the certificate: one this process does not trust (self-signed, another name) is refused', async () => {
      const error = await updateDatabase({
        url: `${tls.url}/gb.mmdb`,
        sha256: sha256(GB),
        dir: data.freshDir(),
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(IpMatchDataError);
      expect(error).toMatchObject({ code: 'download_failed' });
      expect(tls.count('/gb.mmdb')).toBe(0);
    });
  });
});
