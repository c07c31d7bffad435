// Runs inside each runtime (Node, Bun, Deno) from a consumer project with the packed tarball installed, beside
// test/fixtures/runtimes/app.mjs. Prints JSON: the cold start (import + first decision) and, per request, a
// bare Hono route beside the same app's ipMatch route, driven in-process through app.fetch on this runtime.
const started = performance.now();
const { signupApp, signup, GB_IP, KR_IP } = await import('./app.mjs');
const { app } = signupApp({ clientIp: 'x-forwarded-for' });
await (await app.fetch(new Request('http://app/hono', signup('x-forwarded-for', GB_IP)))).arrayBuffer();
const coldStartMs = performance.now() - started;

const N = Number(globalThis.process?.argv?.[2] ?? 2000);
/** Microseconds per request through `path`, alternating a GB and a KR signup. */
async function perRequest(path) {
  const t = performance.now();
  for (let i = 0; i < N; i++) {
    const ip = i % 2 ? GB_IP : KR_IP;
    await (await app.fetch(new Request(`http://app/${path}`, signup('x-forwarded-for', ip)))).arrayBuffer();
  }
  return ((performance.now() - t) * 1000) / N;
}
await perRequest('bare');
await perRequest('hono');
const bare = [];
const guarded = [];
for (let round = 0; round < 7; round++) {
  bare.push(await perRequest('bare'));
  guarded.push(await perRequest('hono'));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ratios = bare.map((b, i) => guarded[i] / b);
console.log(
  JSON.stringify({
    coldStartMs,
    bareUs: median(bare),
    ipMatchUs: median(guarded),
    overheadUs: median(guarded.map((g, i) => g - bare[i])),
    ratio: median(ratios),
  }),
);
