import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectClient, type HttpResponse } from '../../src/data/http-direct.js';

// The updater's direct client (Node's own http) replaced undici's `request` for downloads that no proxy carries;
// undici is still what a proxied download reads. Both must hand the updater the same answer for the same server.

interface Scenario {
  status: number;
  location: string | undefined;
  chunks: Uint8Array[];
  /** Content-length announced (else the body is chunked). */
  sized: boolean;
}

const scenarios = new Map<string, Scenario>();
let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const s = scenarios.get(req.url ?? '');
    if (!s) return void res.writeHead(404).end();
    const headers: Record<string, string | number> = {};
    if (s.location !== undefined) headers.location = s.location;
    if (s.sized) headers['content-length'] = s.chunks.reduce((n, c) => n + c.length, 0);
    res.writeHead(s.status, headers);
    const write = (i: number): void => {
      if (i === s.chunks.length) return void res.end();
      res.write(s.chunks[i]);
      setImmediate(() => write(i + 1));
    };
    write(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** What the updater reads of an answer: the status, where it redirects, the announced length, the body. */
async function seen(res: HttpResponse) {
  const body: Buffer[] = [];
  for await (const chunk of res.body) body.push(chunk);
  return {
    status: res.statusCode,
    location: res.headers.location,
    length: res.headers['content-length'],
    body: Buffer.concat(body).toString('hex'),
  };
}

const limits = { connectTimeoutMs: 5_000, idleTimeoutMs: 5_000 };

describe('DirectClient against undici request', () => {
  it('answers the same status, location, length and body bytes, however the server sends them', async () => {
    const agent = new Agent();
    const direct = new DirectClient();
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(200, 301, 302, 307, 404, 500),
          fc.option(fc.webUrl(), { nil: undefined }),
          fc.array(fc.uint8Array({ minLength: 0, maxLength: 20_000 }), { maxLength: 5 }),
          fc.boolean(),
          async (status, location, chunks, sized) => {
            const path = `/case/${n++}`;
            scenarios.set(path, { status, location, chunks, sized });
            const url = new URL(path, base);
            const signal = AbortSignal.timeout(10_000);
            const ours = await seen(await direct.get(url, { 'user-agent': 't' }, limits, signal));
            const theirs = await seen(
              await request(url, {
                method: 'GET',
                headers: { 'user-agent': 't' },
                dispatcher: agent,
                signal,
              }),
            );
            expect(ours).toEqual(theirs);
          },
        ),
        { numRuns: 40 },
      );
    } finally {
      direct.destroy();
      await agent.close();
    }
  });

  it('gives up on a server silent before its headers in about idleTimeoutMs (ETIMEDOUT: the server went silent)', async () => {
    const silent = createServer(() => {}); // never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = new URL(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/`);
      const started = Date.now();
      const error = await new DirectClient()
        .get(url, {}, { connectTimeoutMs: 5_000, idleTimeoutMs: 200 }, AbortSignal.timeout(10_000))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toMatchObject({ code: 'ETIMEDOUT' });
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
