import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { collectSamples, typeCheckSamples } from '../../scripts/docs/samples.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

// What a user's editor says about a typo in an option, from the compiler itself: a call that matches no form
// of ipMatch is reported against its last form, which must be the options type and not the core (IpMatch).
const ADAPTERS = [
  ['express', 'ExpressOptions', ''],
  ['koa', 'KoaOptions', ''],
  ['fastify', 'FastifyOptions', ''],
  ['hono', 'HonoOptions', ''],
  ['fetch', 'FetchOptions', "clientIp: 'cf-connecting-ip', "],
] as const;

test("a typo in an option is reported against the adapter's options type, on every adapter", () => {
  const pages = ADAPTERS.map(([adapter, , required]) => ({
    file: `docs/typo-${adapter}.md`,
    text: [
      '```ts',
      `import { ipMatch } from 'ipmatch/${adapter}';`,
      '',
      `ipMatch({ ${required}mdoe: 'observe' });`,
      '```',
    ].join('\n'),
  }));
  const { samples } = collectSamples(pages);
  const errors = typeCheckSamples(root, samples);
  expect(errors).toHaveLength(ADAPTERS.length);
  for (const [i, [adapter, options]] of ADAPTERS.entries()) {
    const error = errors.find((e) => e.startsWith(`docs/typo-${adapter}.md:`));
    // The last overload's reason is what editors show first, and what the flattened message ends with.
    const reasons = [...(error ?? '').matchAll(/(Object literal [^\n]*)/g)].map((m) => m[1]);
    expect(reasons.at(-1), `${adapter} (#${i})`).toBe(
      `Object literal may only specify known properties, and 'mdoe' does not exist in type '${options}'.`,
    );
  }
}, 120_000);
