import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { readPages } from '../../scripts/docs/pages.js';
import { PRELUDES } from '../../scripts/docs/preludes.js';
import { collectSamples, typeCheckSamples } from '../../scripts/docs/samples.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// A type-check of the samples loads src/ through the compiler: seconds, more on a busy machine.
const TYPECHECK_TIMEOUT = 120_000;

describe('the code samples of the docs', () => {
  test(
    'every ```ts block type-checks against the public package names',
    () => {
      const { samples, problems } = collectSamples(readPages(root));
      expect(samples.length).toBeGreaterThan(10);
      expect([...problems, ...typeCheckSamples(root, samples)]).toEqual([]);
    },
    TYPECHECK_TIMEOUT,
  );
});

describe('the sample check', () => {
  test(
    'a renamed option fails, naming the page, line and column of the sample; the preludes compile',
    () => {
      const text = [
        '# Options',
        '',
        '```ts',
        "import { createIpMatch } from 'ipmatch';",
        '',
        'createIpMatch({ timeoutMS: 500 });',
        '```',
      ].join('\n');
      // Every prelude beside it, to show that the preludes themselves compile.
      const preludes = Object.keys(PRELUDES).map((name) => ({
        file: `docs/prelude-${name}.md`,
        text: `<!-- sample: prelude ${name} -->\n\`\`\`ts\nconsole.log('uses ${name}');\n\`\`\`\n`,
      }));
      const { samples } = collectSamples([{ file: 'docs/broken.md', text }, ...preludes]);
      expect(samples).toHaveLength(1 + preludes.length);
      const errors = typeCheckSamples(root, samples);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^docs\/broken\.md:6:17 TS2561: .*'timeoutMS'.*'timeoutMs'/);
      expect(errors[0]).toContain('createIpMatch({ timeoutMS: 500 });');
    },
    TYPECHECK_TIMEOUT,
  );

  test(
    "samples compile under exactOptionalPropertyTypes, as a strict user's project does",
    () => {
      const text = [
        '```ts',
        "import { RedisStore } from 'ipmatch/redis';",
        'const strict: { name?: string } = { name: process.env.NAME };',
        'new RedisStore({ sendCommand: async () => null, keySecret: process.env.IPMATCH_KEY_SECRET });',
        '```',
      ].join('\n');
      const errors = typeCheckSamples(root, collectSamples([{ file: 'docs/strict.md', text }]).samples);
      // The plain optional property refuses undefined; the ipmatch option, which says `| undefined`, takes it.
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^docs\/strict\.md:3:\d+ TS2375: .*exactOptionalPropertyTypes/);
    },
    TYPECHECK_TIMEOUT,
  );

  test(
    'a listing of a public type fails on a field that is renamed, retyped, or missing from it',
    () => {
      const text = [
        '<!-- sample: listing -->',
        '```ts',
        'interface IpMatchDecision {',
        "  action: 'allow' | 'flag' | 'block';",
        "  policyAction: 'allow' | 'flag';",
        "  matchLevel: 'country' | 'mismatch' | 'unknown';",
        '  isCached: boolean;',
        '}',
        '```',
      ].join('\n');
      const errors = typeCheckSamples(root, collectSamples([{ file: 'docs/listing.md', text }]).samples);
      expect(errors).toContainEqual(
        expect.stringMatching(
          /^docs\/listing\.md:5:3 listing: IpMatchDecision\.policyAction is "allow" \| "flag" \| "block" in 'ipmatch', not "allow" \| "flag"/,
        ),
      );
      expect(errors).toContainEqual(
        expect.stringMatching(/^docs\/listing\.md:7:3 listing: 'ipmatch' has no IpMatchDecision\.isCached/),
      );
      expect(errors).toContainEqual(
        expect.stringMatching(
          /^docs\/listing\.md:3:11 listing: IpMatchDecision in 'ipmatch' has cached, which is not shown/,
        ),
      );
      expect(errors.filter((e) => !/^docs\/listing\.md:3:11 .* which is not shown/.test(e))).toHaveLength(2);
    },
    TYPECHECK_TIMEOUT,
  );

  test('directives: a prelude declares what the page already showed, continues joins blocks, ignore skips', () => {
    const text = [
      '<!-- sample: prelude express-app -->',
      '```ts',
      "app.get('/', (req, res) => res.end());",
      '```',
      '<!-- sample: continues -->',
      '```ts',
      "app.post('/signup', (req, res) => res.end());",
      '```',
      '<!-- sample: ignore: a listing -->',
      '```ts',
      'interface Nothing { compiles: here',
      '```',
    ].join('\n');
    const { samples, problems, ignored } = collectSamples([{ file: 'docs/ok.md', text }]);
    expect(problems).toEqual([]);
    expect(ignored).toBe(1);
    expect(samples).toHaveLength(1);
    expect(samples[0]!.segments.map((s) => s.line)).toEqual([3, 7]);
    expect(samples[0]!.prelude).toContain('declare const app');
  });

  test('misused conventions are reported with the line of the fence', () => {
    const text = [
      '<!-- sample: ignore -->',
      '```ts',
      'x',
      '```',
      '<!-- sample: prelude nope -->',
      '```ts',
      'x',
      '```',
      '```js',
      'x',
      '```',
      '<!-- sample: skip -->',
      '```ts',
      'x',
      '```',
    ].join('\n');
    const { problems } = collectSamples([{ file: 'docs/misused.md', text }]);
    expect(problems).toEqual([
      'docs/misused.md:2 "sample: ignore" needs a reason: <!-- sample: ignore: <why> -->',
      'docs/misused.md:6 unknown prelude "nope" (known: express-app, core, deno, bun; add one in preludes.ts)',
      'docs/misused.md:9 a ```js block is not type-checked: write it as ```ts, or put <!-- sample: ignore: <why> --> above it',
      'docs/misused.md:13 unknown directive "sample: skip" (known: prelude <name…>, continues, listing [module], ignore: <why>)',
    ]);
  });
});
