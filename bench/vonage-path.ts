/**
 * The remote path against the fake Vonage server (50 ms latency, in a child process), for `vonageProvider`
 * (Number Insight v1, the default) or `identityInsightsProvider` (`--provider=identity-insights`):
 * - latency and CPU: waves of 100 concurrent checks of new numbers; what each check adds over the fake's 50 ms
 *   and the CPU it costs, beside the same waves sent straight through an undici Pool with a JSON.parse of each
 *   answer (the floor that HTTP, the fake and loopback set);
 * - upstream calls: 10 000 checks over 2 000 distinct numbers, 200 at a time; calls made and sockets opened;
 * - a hung upstream: the fake never answers; the slowest of 200 concurrent decisions against `timeoutMs`.
 *
 *   npx tsx bench/vonage-path.ts [--quick] [--concurrency=100] [--provider=vonage|identity-insights]
 */
import './plain-stacks.js';
import { Pool } from 'undici';
import type { IpMatch } from '../src/core/types.js';
import { createIpMatch } from '../src/create-ip-match.js';
import { identityInsightsProvider } from '../src/providers/identity-insights.js';
import { createJwtSigner } from '../src/providers/jwt.js';
import { vonageProvider } from '../src/providers/vonage.js';
import { ask, forkTs, nextMessage, reply } from './children.js';
import type { FromFake } from './fake-vonage-server.js';
import { percentile, round } from './stats.js';
import { buildStreams } from './streams.js';

export interface VonagePath {
  /** The provider measured, as its factory is named. */
  provider: string;
  latencyMs: number;
  concurrency: number;
  /** The provider's `connections` (pool size). */
  pool: number;
  waves: number;
  /** Added latency of a check over the fake's latency, in ms. */
  addedP50: number;
  addedP99: number;
  /** CPU this process spent per check over the waves (parse, request, response validation, decision), in µs. */
  cpuUsPerCheck: number;
  /** The same for bare HTTP requests through an undici Pool, each answer JSON.parse'd: the floor. */
  directAddedP50: number;
  directAddedP99: number;
  directCpuUsPerCheck: number;
  /** ipmatch over the floor: CPU per check, added p50, added p99 (the targets' figures). */
  cpuRatio: number;
  p50Ratio: number;
  p99Ratio: number;
  /** What ipmatch adds beyond bare HTTP to the same fake: addedP50 − directAddedP50, addedP99 − directAddedP99. */
  overDirectP50: number;
  overDirectP99: number;
  checks: number;
  distinct: number;
  upstreamCalls: number;
  callsPerCheck: number;
  /** Sockets the fake saw opened by the provider over the calls run. */
  socketsOpened: number;
  hung: { timeoutMs: number; concurrency: number; worstMs: number; reasons: Record<string, number> };
  /** ipmatch's latency waves and the hung checks, on the clock of process.hrtime (and of --cpu-prof), in µs. */
  windowsUs: { latency: [number, number][]; hung: [number, number] };
}

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const LATENCY_MS = 50;
/** Checks in flight at once (`--concurrency=N`); the pool is sized to match. */
const CONCURRENCY = Number(arg('concurrency') ?? 100);
const INSIGHTS = arg('provider') === 'identity-insights';
const silent = { warn() {}, error() {} };
const IP = '81.2.69.160';
const usNow = () => Number(process.hrtime.bigint() / 1000n);

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const waves = quick ? 5 : 15;
  const fake = forkTs('fake-vonage-server.ts', [String(LATENCY_MS)]);
  const { url, applicationId, privateKey } = await nextMessage<Extract<FromFake, { type: 'ready' }>>(
    fake,
    'ready',
  );
  const stats = () => ask<Extract<FromFake, { type: 'stats' }>>(fake, { type: 'stats' }, 'stats');
  const streams = buildStreams();
  let cursor = 0;
  const newPhones = (n: number) => Array.from({ length: n }, () => streams.cold(cursor++).phone);
  // The bench is one client sending thousands of new numbers a minute: the spend caps would decide most checks
  // offline, and this part measures the lookups themselves.
  const shared = {
    baseUrl: url,
    connections: CONCURRENCY,
    maxLookupsPerMinute: false as const,
    maxLookupsPerMinutePerIp: false as const,
  };
  const provider = () =>
    INSIGHTS
      ? identityInsightsProvider({ applicationId, privateKey, ...shared })
      : vonageProvider({ apiKey: 'test-key', apiSecret: 'test-secret', ...shared });
  // A budget that a loaded machine does not reach: the waves time lookups, and a timeout would end one early.
  const core = (timeoutMs = 10_000) => createIpMatch({ provider: provider(), timeoutMs, logger: silent });

  // Latency: every check of a wave starts in one tick, each timed from its own start.
  async function wave(ipm: IpMatch): Promise<number[]> {
    return Promise.all(
      newPhones(CONCURRENCY).map(async (phone) => {
        const start = performance.now();
        const d = await ipm.check({ phone, ip: IP });
        if (d.error || !d.provider.startsWith('vonage') || d.cached)
          throw new Error(`not a Vonage lookup: ${d.reason} ${d.error?.message ?? ''}`);
        return performance.now() - start;
      }),
    );
  }
  const pool = new Pool(url, { connections: CONCURRENCY, pipelining: 1 });
  // The same request the provider sends, with the credentials it re-uses (a Basic header, or one JWT).
  const token = await createJwtSigner({ applicationId, privateKey }).token();
  const auth = INSIGHTS
    ? `Bearer ${token}`
    : `Basic ${Buffer.from('test-key:test-secret').toString('base64')}`;
  // The provider's headers too (it asks for JSON), so that both sides send the same bytes.
  const headers = INSIGHTS
    ? { authorization: auth, accept: 'application/json', 'content-type': 'application/json' }
    : { authorization: auth, accept: 'application/json' };
  const bare = (phone: string) =>
    INSIGHTS
      ? {
          method: 'POST' as const,
          path: '/identity-insights/v1/requests',
          headers,
          body: JSON.stringify({
            phone_number: phone.slice(1),
            purpose: 'FraudPreventionAndDetection',
            insights: { format: {}, current_carrier: {}, roaming: {}, sim_swap: { period: 240 } },
          }),
        }
      : {
          method: 'GET' as const,
          path: `/ni/advanced/json?number=${phone.slice(1)}`,
          headers,
        };
  const direct = async (): Promise<number[]> =>
    Promise.all(
      newPhones(CONCURRENCY).map(async (phone) => {
        const start = performance.now();
        const res = await pool.request(bare(phone));
        const answer = JSON.parse(await res.body.text());
        if (res.statusCode !== 200 || typeof answer !== 'object') throw new Error('not an answer');
        return performance.now() - start;
      }),
    );

  // Warm-up, uncounted: opens the sockets, and meets every region of the cold stream once, so that the waves
  // measure a server that has been up a while, not the one-time compilation of each region's phone patterns.
  const latency = core();
  for (let w = 0; w * CONCURRENCY < streams.regions.length + CONCURRENCY; w++) {
    await wave(latency);
    await direct();
  }
  const added: number[] = [];
  const directAdded: number[] = [];
  const cpuUs = { ipmatch: 0, direct: 0 };
  const latencyWindows: [number, number][] = [];
  const measured = async (run: () => Promise<number[]>, into: number[], which: keyof typeof cpuUs) => {
    const from = usNow();
    const cpu = process.cpuUsage();
    for (const ms of await run()) into.push(ms - LATENCY_MS);
    const used = process.cpuUsage(cpu);
    cpuUs[which] += used.user + used.system;
    if (which === 'ipmatch') latencyWindows.push([from, usNow()]);
  };
  for (let w = 0; w < waves; w++) {
    const pair = [
      () => measured(() => wave(latency), added, 'ipmatch'),
      () => measured(direct, directAdded, 'direct'),
    ];
    if (w % 2) pair.reverse();
    for (const run of pair) await run();
  }
  const cpuUsPerCheck = cpuUs.ipmatch / (waves * CONCURRENCY);
  const directCpuUsPerCheck = cpuUs.direct / (waves * CONCURRENCY);
  await latency.close();
  await pool.close();

  // Upstream calls: each of 2 000 numbers checked 5 times, in a shuffled order, CONCURRENCY checks at a time.
  const DISTINCT = 2000;
  const CHECKS = 10_000;
  const numbers = newPhones(DISTINCT);
  const order = Array.from({ length: CHECKS }, (_, i) => numbers[i % DISTINCT]!);
  for (let i = order.length - 1; i > 0; i--) {
    const j = (i * 7919 + 17) % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const before = await stats();
  const calls = core();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < order.length) await calls.check({ phone: order[next++]!, ip: IP });
    }),
  );
  await calls.close();
  const after = await stats();

  // A hung upstream: the budget must end every check, whatever the pool holds. A first wave, answered, opens
  // the pool's sockets and loads the GeoIP data, as a server that has been up a while has done.
  const TIMEOUT_MS = 300;
  const hungCore = core(TIMEOUT_MS);
  await wave(hungCore);
  await ask(fake, { type: 'hang', hang: true }, 'ok');
  const reasons: Record<string, number> = {};
  const hungFrom = usNow();
  const times = await Promise.all(
    newPhones(CONCURRENCY).map(async (phone) => {
      const start = performance.now();
      const d = await hungCore.check({ phone, ip: IP });
      reasons[d.reason] = (reasons[d.reason] ?? 0) + 1;
      return performance.now() - start;
    }),
  );
  const hungTo = usNow();
  await hungCore.close();
  fake.send({ type: 'quit' });

  const result: VonagePath = {
    provider: INSIGHTS ? 'identityInsightsProvider' : 'vonageProvider',
    latencyMs: LATENCY_MS,
    concurrency: CONCURRENCY,
    pool: CONCURRENCY,
    waves,
    addedP50: round(percentile(added, 50), 2),
    addedP99: round(percentile(added, 99), 2),
    cpuUsPerCheck: round(cpuUsPerCheck, 1),
    directAddedP50: round(percentile(directAdded, 50), 2),
    directAddedP99: round(percentile(directAdded, 99), 2),
    directCpuUsPerCheck: round(directCpuUsPerCheck, 1),
    cpuRatio: round(cpuUsPerCheck / directCpuUsPerCheck, 2),
    p50Ratio: round(percentile(added, 50) / percentile(directAdded, 50), 2),
    p99Ratio: round(percentile(added, 99) / percentile(directAdded, 99), 2),
    overDirectP50: round(percentile(added, 50) - percentile(directAdded, 50), 2),
    overDirectP99: round(percentile(added, 99) - percentile(directAdded, 99), 2),
    checks: CHECKS,
    distinct: DISTINCT,
    upstreamCalls: after.calls - before.calls,
    callsPerCheck: round((after.calls - before.calls) / CHECKS, 4),
    socketsOpened: after.connections - before.connections,
    hung: { timeoutMs: TIMEOUT_MS, concurrency: CONCURRENCY, worstMs: round(Math.max(...times), 1), reasons },
    windowsUs: { latency: latencyWindows, hung: [hungFrom, hungTo] },
  };
  reply(result);
}

await main();
