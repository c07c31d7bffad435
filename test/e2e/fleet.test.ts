import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A fleet: two Express processes (children, as two servers behind a load balancer) share one Redis through
 * RedisStore. Requests alternate between them, and `ip_velocity` fires on the same request as it does on one
 * process: the 4th distinct number from one IP, with the default max of 3. Each process also serves a route
 * whose counters are in its own memory, to show what the fleet would see without Redis.
 */
const REDIS_URL = process.env.REDIS_URL;
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
if (!REDIS_URL && IN_CI)
  throw new Error('REDIS_URL is not set under CI=true: the fleet test must run in CI.');

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const src = (path: string) => JSON.stringify(fileURLToPath(new URL(`../../src/${path}`, import.meta.url)));
const PREFIX = `ipmatch-fleet-test:${randomUUID()}:`;
const SECRET = 'fleet-test-secret-0123456789abcdef';

/** One app server: POST /signup counts in Redis, POST /signup-memory in this process only. */
const SERVER = `
const { default: express } = await import('express');
const { Redis } = await import('ioredis');
const { createIpMatch } = await import(${src('index.ts')});
const { ipMatch } = await import(${src('adapters/express.ts')});
const { RedisStore } = await import(${src('stores/redis.ts')});
const quiet = { warn() {}, error() {} };
const redis = new Redis(process.env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
redis.on('error', () => {});
await new Promise((resolve) => redis.once('ready', resolve));
const store = new RedisStore({ client: redis, prefix: process.env.FLEET_PREFIX, keySecret: process.env.FLEET_SECRET });
// A loaded CI machine can take more than the default 50 ms: this test is about counting, not the budget.
const shared = createIpMatch({ logger: quiet, velocity: { store, timeoutMs: 2000 } });
const local = createIpMatch({ logger: quiet });
const app = express();
app.set('trust proxy', 'loopback');
app.use(express.json());
const answer = (req, res) => res.json({ server: process.env.FLEET_NAME, decision: req.ipMatch });
app.post('/signup', ipMatch(shared), answer);
app.post('/signup-memory', ipMatch(local), answer);
const server = app.listen(0, '127.0.0.1', () => process.send({ ready: server.address().port }));
process.on('message', async (m) => {
  if (m.cmd !== 'close') return;
  server.close();
  await Promise.all([shared.close(), local.close()]);
  redis.disconnect();
  process.disconnect();
});
`;

interface Server {
  child: ChildProcess;
  url: string;
}

async function startServer(name: string): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SERVER], {
    cwd: ROOT,
    env: { ...process.env, FLEET_PREFIX: PREFIX, FLEET_SECRET: SECRET, FLEET_NAME: name },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [message] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(() => {
      throw new Error(`fleet server ${name} exited before it was ready`);
    }),
  ])) as [{ ready: number }];
  return { child, url: `http://127.0.0.1:${message.ready}` };
}

async function stopServer({ child }: Server): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  if (child.connected) child.send({ cmd: 'close' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

interface Answer {
  server: string;
  decision: { signals: string[]; velocity?: { ip: number } };
}

async function signup(server: Server, path: string, ip: string, phone: string): Promise<Answer> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
    body: JSON.stringify({ phone }),
    signal: AbortSignal.timeout(10_000),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Answer;
}

/** Distinct UK mobile numbers, each in its own block, so that only the IP's counter grows fast. */
const numbers = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => `+4474${String(seed * 100 + i).padStart(5, '0')}123`);

describe.skipIf(!REDIS_URL)('a fleet of two Express processes on one Redis', () => {
  let a: Server;
  let b: Server;

  beforeAll(async () => {
    [a, b] = await Promise.all([startServer('a'), startServer('b')]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a && stopServer(a), b && stopServer(b)]);
    const admin = new Redis(REDIS_URL!);
    const keys = await admin.keys(`${PREFIX}*`);
    if (keys.length > 0) await admin.del(...keys);
    admin.disconnect();
  });

  /** The 1-based requests of `phones` from `ip`, sent to `servers` in turn, that carried ip_velocity. */
  async function firing(servers: Server[], path: string, ip: string, phones: string[]) {
    const fired: number[] = [];
    const counts: number[] = [];
    const seen = new Set<string>();
    for (const [i, phone] of phones.entries()) {
      const answer = await signup(servers[i % servers.length]!, path, ip, phone);
      seen.add(answer.server);
      if (answer.decision.signals.includes('ip_velocity')) fired.push(i + 1);
      counts.push(answer.decision.velocity?.ip ?? -1);
    }
    expect(seen.size).toBe(servers.length);
    return { fired, counts };
  }

  it('fires ip_velocity on the 4th distinct number from one IP, alternating servers, as one process does', async () => {
    const fleet = await firing([a, b], '/signup', '81.2.69.160', numbers(6, 1));
    const alone = await firing([a], '/signup', '81.2.69.142', numbers(6, 2));
    expect(fleet).toEqual({ fired: [4, 5, 6], counts: [1, 2, 3, 4, 5, 6] });
    expect(alone).toEqual(fleet);
  });

  it('a repeat of one number counts once across the fleet', async () => {
    const [first, second] = numbers(2, 3);
    const phones = [first!, first!, first!, second!];
    const { counts } = await firing([a, b], '/signup', '81.2.69.192', phones);
    expect(counts).toEqual([1, 1, 1, 2]);
  });

  it('without a shared store each process counts alone, so the fleet fires late (what Redis is for)', async () => {
    const { fired } = await firing([a, b], '/signup-memory', '81.2.69.161', numbers(8, 4));
    expect(fired).toEqual([7, 8]);
  });
});
