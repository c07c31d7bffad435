/** A real Redis Cluster of the tests' own: three masters on free loopback ports, joined by redis-cli, stopped whole. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** True when both `redis-server` and `redis-cli` (which joins the nodes) are on the PATH. */
export function hasRedisCluster(): boolean {
  return (
    spawnSync('redis-server', ['--version']).status === 0 &&
    spawnSync('redis-cli', ['--version']).status === 0
  );
}

function listens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free loopback port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 35_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await listens(port)) && (await listens(port + 10_000))) return port;
  }
  throw new Error('no free pair of loopback ports (port, port + 10000) for a cluster node');
}

/** Sends one inline command to the node on `port` and resolves to its raw reply ('' when it does not answer). */
export function ask(port: number, command: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    let reply = '';
    const done = () => {
      socket.destroy();
      resolve(reply);
    };
    socket.setTimeout(timeoutMs, done);
    socket.once('error', done);
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (data) => {
      reply += data.toString();
      // A bulk reply ($len\r\n…\r\n) or a one-line reply, read whole.
      const bulk = /^\$(\d+)\r\n/.exec(reply);
      if (bulk ? reply.length >= bulk[0].length + Number(bulk[1]) + 2 : reply.endsWith('\r\n')) done();
    });
  });
}

export interface ClusterNode {
  readonly port: number;
  /** Kills the node (SIGKILL, as a crash), keeping its directory and nodes.conf. */
  stop(): Promise<void>;
  /** Starts it again on the same port from its nodes.conf: it takes back its slots (its data is gone). */
  start(): Promise<void>;
}

export interface RedisCluster {
  nodes: ClusterNode[];
  /** `127.0.0.1:P1,127.0.0.1:P2,…`, as REDIS_CLUSTER_NODES holds it. */
  spec: string;
  /** Resolves once every node says `cluster_state:ok` (bounded). */
  waitOk(timeoutMs?: number): Promise<void>;
  /** Kills every node and removes their directories. */
  stop(): Promise<void>;
}

function node(port: number, dir: string): ClusterNode & { remove(): Promise<void> } {
  let child: ChildProcess | undefined;
  let exit: Promise<void> = Promise.resolve();
  const self = {
    port,
    async start() {
      const started = spawn(
        'redis-server',
        // Without replicas, a lost master must not stop the others' slots (cluster-require-full-coverage no).
        [
          ...[
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--save',
            '',
            '--appendonly',
            'no',
            '--dir',
            dir,
          ],
          ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf')],
          ...['--cluster-node-timeout', '3000', '--cluster-require-full-coverage', 'no'],
        ],
        { stdio: 'ignore' },
      );
      child = started;
      let exited = false;
      // Should this process end without stop() (an uncaught error, a closed pipe), the node goes with it.
      const orphan = () => {
        started.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      };
      process.once('exit', orphan);
      exit = new Promise<void>((resolve) =>
        started.once('exit', () => {
          process.off('exit', orphan);
          resolve();
        }),
      );
      void exit.then(() => {
        exited = true;
      });
      for (let i = 0; i < 50 && !exited; i++) {
        if ((await ask(port, 'PING', 200)).startsWith('+PONG')) return;
        await sleep(100);
      }
      await self.stop();
      throw new Error(`cluster node did not start on port ${port}`);
    },
    async stop() {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exit;
      child = undefined;
    },
    async remove() {
      await self.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}

/**
 * Starts `masters` redis-server processes with `--cluster-enabled yes` (no persistence) and joins them with
 * `redis-cli --cluster create … --cluster-replicas 0`, each master taking an equal share of the 16384 slots.
 * Takes a few seconds; `stop()` kills only these processes and removes their directories.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const taken = new Set<number>();
  const nodes: Array<ReturnType<typeof node>> = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.remove()));
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freeClusterPort(taken);
      taken.add(port).add(port + 10_000);
      nodes.push(node(port, mkdtempSync(join(tmpdir(), 'ipmatch-redis-cluster-'))));
    }
    await Promise.all(nodes.map((n) => n.start()));
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    const create = spawn(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    create.stdout.on('data', (d) => {
      output += d;
    });
    create.stderr.on('data', (d) => {
      output += d;
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => create.kill('SIGKILL'), 20_000);
      create.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    if (code !== 0)
      throw new Error(`redis-cli --cluster create failed (exit ${code}): ${output.slice(-500)}`);
    const cluster: RedisCluster = {
      nodes,
      spec: addresses.join(','),
      async waitOk(timeoutMs = 15_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const states = await Promise.all(nodes.map((n) => ask(n.port, 'CLUSTER INFO')));
          if (states.every((s) => s.includes('cluster_state:ok'))) return;
          if (Date.now() > deadline) throw new Error(`the cluster is not ok after ${timeoutMs} ms`);
          await sleep(50);
        }
      },
      stop,
    };
    await cluster.waitOk();
    return cluster;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The nodes of REDIS_CLUSTER_NODES (`host:port,…`), as ioredis `Cluster` and node-redis `createCluster` take them. */
export function clusterNodesFromEnv(): Array<{ host: string; port: number }> | undefined {
  const spec = process.env.REDIS_CLUSTER_NODES;
  if (!spec) return undefined;
  return spec.split(',').map((address) => {
    const at = address.lastIndexOf(':');
    return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
  });
}

/** Deletes every key under `prefix` on every node of REDIS_CLUSTER_NODES: how a test file cleans up after itself. */
export async function deleteClusterKeys(prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  await Promise.all(
    (clusterNodesFromEnv() ?? []).map(async ({ host, port }) => {
      const node = new Redis({ host, port, maxRetriesPerRequest: 1, lazyConnect: true });
      node.on('error', () => {});
      try {
        await node.connect();
        let cursor = '0';
        for (let round = 0; round < 10_000; round++) {
          const [next, keys] = await node.scan(
            cursor,
            'MATCH',
            `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`,
            'COUNT',
            1000,
          );
          // Each key on its own: keys of one node may still lie in different slots.
          for (const key of keys) await node.del(key);
          cursor = next;
          if (cursor === '0') break;
        }
      } finally {
        node.disconnect();
      }
    }),
  );
}
