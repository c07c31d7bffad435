import { defineConfig } from 'tsup';
import { mergeCoreChunks } from './scripts/merge-core-chunks.js';

// The entry points whose shared chunks are merged into one core module after the build (scripts/merge-core-chunks.ts).
const CORE_ENTRIES = ['index', 'express', 'koa', 'fastify', 'fetch', 'hono', 'nestjs'];

// One entry per public subpath; each is emitted as ESM (.js) and CJS (.cjs) with its own types.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    express: 'src/adapters/express.ts',
    koa: 'src/adapters/koa.ts',
    fastify: 'src/adapters/fastify.ts',
    fetch: 'src/adapters/fetch.ts',
    hono: 'src/adapters/hono.ts',
    nestjs: 'src/adapters/nestjs/index.ts',
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
  // Bundled into dist (licences in NOTICE): a cold start pays per module file that Node resolves, reads and,
  // for CommonJS, lexes. zod through zod/mini keeps only the validators in use (the package is ~95 modules);
  // mmdb-lib and ipaddr.js are small, dependency-free CommonJS, and cost more to load apart than
  // inside the chunks that use them. lru-cache stays external: it has one build per platform (its browser one
  // for Workers), and bundling it saved nothing measurable. libphonenumber-js's parser (`libphonenumber-js/core`)
  // is bundled into the chunk that src/core/phone.ts imports on a number the fast path leaves to it: one file
  // instead of the package's ~70 modules. Its metadata stays external (`libphonenumber-js/metadata.max.json`), so
  // the numbering plans are the installed dependency's; the parser's code is the version installed at build time,
  // which package.json pins exactly. `ipmatch/testing` imports `libphonenumber-js/max` as it is.
  noExternal: ['zod', 'mmdb-lib', 'ipaddr.js', 'libphonenumber-js/core'],
  // Splitting keeps one copy of each module across entry points, but in one chunk per set of entry points that use
  // it (21 files for `ipmatch/express`); those that the framework entry points load at import become one module.
  async onSuccess() {
    await mergeCoreChunks('dist', CORE_ENTRIES);
  },
});
