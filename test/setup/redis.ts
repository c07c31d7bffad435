import { hasRedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';
import { hasRedisServer, startRedisServer } from '../helpers/redis-server.js';

/**
 * Vitest global setup: a newcomer's `npm test` runs the Redis tests as CI does. With `redis-server` on the PATH
 * it starts, side by side, what the environment does not already give:
 * - with REDIS_URL unset, one Redis on a free loopback port, without persistence, exported as REDIS_URL;
 * - with REDIS_CLUSTER_NODES unset, a real 3-master Redis Cluster (test/helpers/redis-cluster.ts), exported as
 *   REDIS_CLUSTER_NODES=127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3.
 * The test workers are forked after this runs, with this process's environment; both are stopped at the end.
 * Under CI=true it starts nothing: `.ci/run` provides both, and a missing variable fails the tests that need it.
 */
export default async function redisForTests(): Promise<(() => Promise<void>) | undefined> {
  const inCi = process.env.CI === 'true' || process.env.CI === '1';
  if (inCi) return undefined;
  const wantServer = !process.env.REDIS_URL;
  const wantCluster = !process.env.REDIS_CLUSTER_NODES;
  if (!wantServer && !wantCluster) return undefined;
  if (!hasRedisServer()) {
    console.warn('Redis tests SKIPPED: REDIS_URL is unset and redis-server is not on the PATH.');
    return undefined;
  }
  const clusterPossible = wantCluster && hasRedisCluster();
  if (wantCluster && !clusterPossible) {
    console.warn(
      'Redis Cluster tests SKIPPED: REDIS_CLUSTER_NODES is unset and redis-cli is not on the PATH.',
    );
  }
  const started = await Promise.allSettled([
    wantServer ? startRedisServer() : undefined,
    clusterPossible ? startRedisCluster() : undefined,
  ]);
  const [server, cluster] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined)) as [
    Awaited<ReturnType<typeof startRedisServer>> | undefined,
    Awaited<ReturnType<typeof startRedisCluster>> | undefined,
  ];
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    // Never leave one running when the other could not start.
    await Promise.all([server?.stop(), cluster?.stop()]);
    throw failed.reason;
  }
  if (server) process.env.REDIS_URL = server.url;
  if (cluster) process.env.REDIS_CLUSTER_NODES = cluster.spec;
  return async () => {
    if (server) delete process.env.REDIS_URL;
    if (cluster) delete process.env.REDIS_CLUSTER_NODES;
    await Promise.all([server?.stop(), cluster?.stop()]);
  };
}
