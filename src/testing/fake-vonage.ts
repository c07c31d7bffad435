/** startFakeVonage: Number Insight and Identity Insights mounted on one fault-injecting loopback server. */
import * as z from 'zod/mini';
import { parseOptions, wholeNumber } from '../core/validate.js';
import type { NiResponseJson } from '../providers/vonage-schema.js';
import { fakeKeyPair, II_PATH, identityInsights } from './fake-identity-insights.js';
import { numberInsight } from './fake-number-insight.js';
import { digits, drawFault, startFakeServer } from './fake-server.js';
import type {
  FakeInsights,
  FakeVonage,
  FakeVonageBehaviour,
  FakeVonageFaultMix,
  FakeVonageOptions,
} from './fake-vonage-types.js';
import { seeded } from './seeded.js';

const DEFAULTS: FakeVonageBehaviour = {
  latencyMs: 0,
  hang: false,
  drop: false,
  httpStatus: undefined,
  body: undefined,
  truncate: false,
  status: 0,
  roaming: { status: 'not_roaming' },
  ip: undefined,
  balance: 10,
  insights: {},
  errorShape: 'problem',
};

const probability = z.optional(z.number().check(z.minimum(0), z.maximum(1)));
const nonEmpty = z.optional(z.string().check(z.minLength(1)));
const behaviourShape = {
  latencyMs: z.optional(z.number().check(z.minimum(0))),
  hang: z.optional(z.boolean()),
  drop: z.optional(z.boolean()),
  httpStatus: z.optional(wholeNumber(100, 599)),
  body: z.optional(z.string()),
  truncate: z.optional(z.boolean()),
  status: z.optional(wholeNumber(0)),
  roaming: z.optional(
    z.union([z.literal('unknown'), z.looseObject({ status: z.enum(['roaming', 'not_roaming', 'unknown']) })]),
  ),
  ip: z.optional(z.looseObject({ ip_match_level: z.string() })),
  balance: z.optional(z.number()),
  insights: z.optional(z.record(z.string(), z.looseObject({}))),
  errorShape: z.optional(z.enum(['problem', 'camara'])),
  fault: z.optional(
    z.custom<FakeVonageOptions['fault']>((v) => typeof v === 'function', 'expected a function'),
  ),
  faults: z.optional(
    z
      .strictObject({
        hang: probability,
        drop: probability,
        http502: probability,
        truncated: probability,
        throttle: probability,
      })
      .check(
        z.refine(
          (m) => Object.values(m).reduce((a, b) => a + (b ?? 0), 0) <= 1,
          'the probabilities must sum to at most 1',
        ),
      ),
  ),
};
const setSchema = z.strictObject(behaviourShape);
const optionsSchema = z.strictObject({
  ...behaviourShape,
  apiKey: nonEmpty,
  apiSecret: nonEmpty,
  seed: z.optional(z.number().check(z.int())),
  applicationId: nonEmpty,
  answers: z.optional(z.record(z.string(), z.looseObject({}))),
});

/**
 * Starts a real HTTP server on 127.0.0.1 that speaks Number Insight v1 and Identity Insights JSON, for tests of
 * code that uses `vonageProvider` or `identityInsightsProvider`. It checks Basic auth and JWTs (signed with the
 * key pair it exposes), derives each number's country with libphonenumber-js, and can be told to be slow, hang,
 * drop connections, answer any HTTP, NI or per-insight status, or fail at random.
 */
export async function startFakeVonage(options: FakeVonageOptions = {}): Promise<FakeVonage> {
  const start = parseOptions(optionsSchema, options, 'startFakeVonage options') as FakeVonageOptions;
  const { privateKey, publicKey } = await fakeKeyPair();
  const applicationId = start.applicationId ?? '00000000-0000-4000-8000-00000000fa6e';
  const random = seeded(start.seed ?? 1);
  let behaviour: FakeVonageBehaviour = { ...DEFAULTS };
  let fault: FakeVonageOptions['fault'];
  let faults: FakeVonageFaultMix | undefined;
  const answers = new Map<string, Partial<NiResponseJson>>();
  const insights = new Map<string, FakeInsights>();

  function apply(patch: Partial<FakeVonageBehaviour> & Pick<FakeVonageOptions, 'fault' | 'faults'>): void {
    const { fault: f, faults: mix, ...rest } = patch;
    if ('fault' in patch) fault = f;
    if ('faults' in patch) faults = mix;
    behaviour = { ...behaviour, ...rest };
  }

  function reset(): void {
    behaviour = { ...DEFAULTS };
    fault = undefined;
    faults = undefined;
    answers.clear();
    insights.clear();
    const { apiKey, apiSecret, seed, answers: initial, applicationId, ...rest } = start;
    apply(rest);
    for (const [n, a] of Object.entries(initial ?? {})) answers.set(digits(n), a);
  }
  reset();

  const ni = numberInsight({
    key: start.apiKey ?? 'test-key',
    secret: start.apiSecret ?? 'test-secret',
    answers,
    charge: (price) => {
      behaviour.balance -= price;
    },
  });
  const ii = identityInsights({ applicationId, publicKey, insights });
  const server = await startFakeServer({
    apiFor: (path) => (path === II_PATH ? ii : ni),
    behaviourFor: (request) => ({ ...behaviour, ...drawFault(faults, random), ...fault?.(request) }),
  });

  return {
    url: server.url,
    applicationId,
    privateKey,
    get calls() {
      return server.requests.length;
    },
    requests: server.requests,
    get connections() {
      return server.connections;
    },
    get openConnections() {
      return server.openConnections;
    },
    get inFlight() {
      return server.inFlight;
    },
    set(patch) {
      apply(parseOptions(setSchema, patch, 'fake.set()') as typeof patch);
    },
    answer(number, response) {
      if (response === null) answers.delete(digits(number));
      else answers.set(digits(number), response);
    },
    insights(number, overrides) {
      if (overrides === null) insights.delete(digits(number));
      else insights.set(digits(number), overrides);
    },
    reset,
    close: () => server.close(),
  };
}
