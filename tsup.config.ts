import { defineConfig } from 'tsup';

// One entry per public subpath; each is emitted as ESM (.js) and CJS (.cjs) with its own types.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    express: 'src/adapters/express.ts',
    koa: 'src/adapters/koa.ts',
    fastify: 'src/adapters/fastify.ts',
    fetch: 'src/adapters/fetch.ts',
    hono: 'src/adapters/hono.ts',
    redis: 'src/stores/redis.ts',
    metrics: 'src/observe/metrics/index.ts',
    testing: 'src/testing/index.ts',
    cli: 'src/cli.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: true,
  treeshake: true,
  // zod (MIT) goes into dist: through zod/mini only the validators in use are kept, in one chunk, where the
  // package as installed is ~95 modules that Node resolves and reads one by one at import.
  noExternal: ['zod'],
});
