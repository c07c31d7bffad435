import { hasRedisServer, startRedisServer } from '../helpers/redis-server.js';

/**
 * Vitest global setup: a newcomer's `npm test` runs the Redis tests as CI does. With REDIS_URL unset and
 * `redis-server` on the PATH, it starts one of its own on a free loopback port, without persistence, exports
 * REDIS_URL to the test workers (forked after this runs, with this process's environment) and stops it at the
 * end. Under CI=true it starts nothing: `.ci/run` provides Redis, and a missing REDIS_URL fails the Redis tests.
 */
export default async function redisForTests(): Promise<(() => Promise<void>) | undefined> {
  const inCi = process.env.CI === 'true' || process.env.CI === '1';
  if (process.env.REDIS_URL || inCi) return undefined;
  if (!hasRedisServer()) {
    console.warn('Redis tests SKIPPED: REDIS_URL is unset and redis-server is not on the PATH.');
    return undefined;
  }
  const server = await startRedisServer();
  process.env.REDIS_URL = server.url;
  return async () => {
    delete process.env.REDIS_URL;
    await server.stop();
  };
}
