import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests and examples import the package by its public names, exactly as users do.
    alias: [
      { find: /^ipmatch$/, replacement: src('index.ts') },
      { find: /^ipmatch\/express$/, replacement: src('adapters/express.ts') },
      { find: /^ipmatch\/koa$/, replacement: src('adapters/koa.ts') },
      { find: /^ipmatch\/fastify$/, replacement: src('adapters/fastify.ts') },
      { find: /^ipmatch\/fetch$/, replacement: src('adapters/fetch.ts') },
      { find: /^ipmatch\/hono$/, replacement: src('adapters/hono.ts') },
      { find: /^ipmatch\/nestjs$/, replacement: src('adapters/nestjs/index.ts') },
      { find: /^ipmatch\/redis$/, replacement: src('stores/redis.ts') },
      { find: /^ipmatch\/metrics$/, replacement: src('observe/metrics/index.ts') },
      { find: /^ipmatch\/testing$/, replacement: src('testing/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Starts a throwaway redis-server when REDIS_URL is unset, so `npm test` runs the Redis tests as CI does.
    globalSetup: ['test/setup/redis.ts'],
    // A test that prints a warning nobody captured fails: `npm test` stays quiet.
    setupFiles: ['test/setup/quiet.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Providers without `database` read the data dir: never a developer's own ~/.cache/ipmatch in tests.
    env: { IPMATCH_DATA_DIR: join(tmpdir(), 'ipmatch-tests-no-data-dir') },
  },
});
