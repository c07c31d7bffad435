/**
 * CPU per remote check, Identity Insights beside Number Insight v1, against the fake server (50 ms latency, in a
 * child process). Waves of 100 concurrent checks of new numbers, rotating among three clients so that each sees
 * the same moments of a busy machine:
 * - identityInsightsProvider: JWT (re-used), POST, zod validation of the answer, the decision;
 * - vonageProvider (NI v1 Advanced): Basic auth, GET, validation, the decision;
 * - bare undici: the same Identity Insights POST through a Pool with one pre-signed JWT, each answer JSON.parse'd
 *   (the floor that HTTP, the fake and loopback set).
 * Then the parts alone, in a tight loop: one RS256 signature, one re-used token, one validation of an answer.
 *
 *   npx tsx bench/identity-insights-path.ts [--quick]
 */
import './plain-stacks.js';
import { Pool } from 'undici';
import type { IpMatch } from '../src/core/types.js';
import { createIpMatch } from '../src/create-ip-match.js';
import { identityInsightsProvider } from '../src/providers/identity-insights.js';
import { iiResponseSchema, toPhoneLookup } from '../src/providers/identity-insights-schema.js';
import { createJwtSigner } from '../src/providers/jwt.js';
import { vonageProvider } from '../src/providers/vonage.js';
import { iiAnswer } from '../src/testing/fake-identity-insights.js';
import { forkTs, nextMessage, reply } from './children.js';
import type { FromFake } from './fake-vonage-server.js';
import { median, round } from './stats.js';
import { buildStreams } from './streams.js';

const LATENCY_MS = 50;
const CONCURRENCY = 100;
const IP = '81.2.69.160';
const silent = { warn() {}, error() {} };
const unlimited = {
  maxLookupsPerMinute: false,
  maxLookupsPerMinutePerIp: false,
  connections: CONCURRENCY,
} as const;
const INSIGHTS = { format: {}, current_carrier: {}, roaming: {}, sim_swap: { period: 240 } };

/** µs of CPU per call of `fn`, over `n` calls (after 10% of them as warm-up). */
function cpuPerCall(n: number, fn: () => unknown): number {
  for (let i = 0; i < n / 10; i++) fn();
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const rounds = quick ? 4 : 12;
  const fake = forkTs('fake-vonage-server.ts', [String(LATENCY_MS)]);
  const { url, applicationId, privateKey } = await nextMessage<Extract<FromFake, { type: 'ready' }>>(
    fake,
    'ready',
  );
  const streams = buildStreams();
  let cursor = 0;
  const newPhones = () => Array.from({ length: CONCURRENCY }, () => streams.cold(cursor++).phone);

  const ii = createIpMatch({
    provider: identityInsightsProvider({ applicationId, privateKey, baseUrl: url, ...unlimited }),
    logger: silent,
    cache: false,
    // CPU is measured, not latency: a busy machine must not turn a slow wave into failed checks.
    timeoutMs: 10_000,
  });
  const ni = createIpMatch({
    provider: vonageProvider({ apiKey: 'test-key', apiSecret: 'test-secret', baseUrl: url, ...unlimited }),
    logger: silent,
    cache: false,
    timeoutMs: 10_000,
  });
  const checks = (core: IpMatch, provider: string) => async () => {
    await Promise.all(
      newPhones().map(async (phone) => {
        const d = await core.check({ phone, ip: IP });
        if (d.error || d.provider !== provider)
          throw new Error(`not a ${provider} lookup: ${d.error?.message}`);
      }),
    );
  };
  const pool = new Pool(url, { connections: CONCURRENCY, pipelining: 1 });
  const bearer = `Bearer ${await createJwtSigner({ applicationId, privateKey }).token()}`;
  const bare = async () => {
    await Promise.all(
      newPhones().map(async (phone) => {
        const res = await pool.request({
          method: 'POST',
          path: '/identity-insights/v1/requests',
          headers: { authorization: bearer, 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({
            phone_number: phone.slice(1),
            purpose: 'FraudPreventionAndDetection',
            insights: INSIGHTS,
          }),
        });
        if (typeof JSON.parse(await res.body.text()).insights !== 'object') throw new Error('not an answer');
      }),
    );
  };
  const runs = {
    identityInsights: checks(ii, 'vonage-identity-insights'),
    numberInsightV1: checks(ni, 'vonage'),
    bareUndici: bare,
  };
  type Name = keyof typeof runs;
  const names = Object.keys(runs) as Name[];
  // Warm-up, uncounted: sockets, the JIT, and every region of the cold stream's phone patterns.
  for (let w = 0; w * CONCURRENCY < streams.regions.length + CONCURRENCY; w++)
    for (const n of names) await runs[n]();
  const perCheck: Record<Name, number[]> = { identityInsights: [], numberInsightV1: [], bareUndici: [] };
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(r + i) % names.length]!;
      const start = process.cpuUsage();
      await runs[name]();
      const used = process.cpuUsage(start);
      perCheck[name].push((used.user + used.system) / CONCURRENCY);
    }
  }
  await ii.close();
  await ni.close();
  await pool.close();
  fake.send({ type: 'quit' });

  // The parts alone.
  const signer = createJwtSigner({ applicationId, privateKey });
  const fresh = () => createJwtSigner({ applicationId, privateKey }).token();
  const answer = iiAnswer(
    { phone_number: '447400123456', insights: INSIGHTS },
    { roaming: { is_roaming: true, country_codes: ['ES'] } },
    'bench',
  );
  const body = JSON.stringify(answer);
  const phone = { number: '+447400123456', country: 'GB', valid: true };
  const asked = ['format', 'current_carrier', 'roaming', 'sim_swap'] as const;
  const cpu = (name: Name) => round(median(perCheck[name]), 1);
  const result = {
    latencyMs: LATENCY_MS,
    concurrency: CONCURRENCY,
    waves: rounds,
    cpuUsPerCheck: {
      identityInsights: cpu('identityInsights'),
      numberInsightV1: cpu('numberInsightV1'),
      bareUndici: cpu('bareUndici'),
    },
    ratios: {
      identityInsightsOverBare: round(median(perCheck.identityInsights) / median(perCheck.bareUndici), 2),
      numberInsightV1OverBare: round(median(perCheck.numberInsightV1) / median(perCheck.bareUndici), 2),
      identityInsightsOverNumberInsightV1: round(
        median(perCheck.identityInsights) / median(perCheck.numberInsightV1),
        2,
      ),
    },
    partsUs: {
      // Signing happens once per token (about every 14 minutes); a check re-uses the token.
      jwtSignature: round(cpuPerCall(quick ? 50 : 300, fresh), 1),
      jwtReuse: round(
        cpuPerCall(100_000, () => signer.token()),
        3,
      ),
      parseAndValidateAnswer: round(
        cpuPerCall(quick ? 5_000 : 20_000, () =>
          toPhoneLookup(iiResponseSchema.parse(JSON.parse(body)), asked, phone),
        ),
        2,
      ),
    },
  };
  reply(result);
}

await main();
