import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { brokenLinks } from '../../scripts/docs/links.js';
import { headingAnchors, links } from '../../scripts/docs/markdown.js';
import { readPages } from '../../scripts/docs/pages.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pages = readPages(root);

describe('every relative link and anchor of the docs leads somewhere', () => {
  test('the pages include the README and docs/', () => {
    const files = pages.map((p) => p.file);
    expect(files).toContain('README.md');
    expect(files).toContain('docs/options-and-policy.md');
  });

  test.each(pages.map((p) => [p.file, p] as const))('%s', (_file, page) => {
    expect(brokenLinks(root, page)).toEqual([]);
  });

  test('the README links every page of docs/', () => {
    const readme = pages.find((p) => p.file === 'README.md')!;
    const linked = new Set(links(readme.text).map((l) => l.target.split('#')[0]));
    const unlinked = pages
      .filter((p) => p.file.startsWith('docs/') && !linked.has(p.file))
      .map((p) => p.file);
    expect(unlinked, 'add these pages to the README\'s "Topics" table').toEqual([]);
  });
});

describe('the link check', () => {
  test('names the page, line and target of a missing file, folder-relative as GitHub resolves it', () => {
    const page = {
      file: 'docs/example.md',
      text: '# Example\n\nSee [the data](data.md) and [nothing](nothing.md).\n',
    };
    expect(brokenLinks(root, page)).toEqual([
      'docs/example.md:3 (nothing.md): no such file or folder docs/nothing.md',
    ]);
  });

  test('fails on an anchor that no heading produces, on the page itself or on another', () => {
    const page = {
      file: 'README.md',
      text: '## Quick start\n\n[ok](#quick-start) [bad](#quickstart) [ok](docs/data.md#licences) [bad](docs/data.md#licence)\n',
    };
    expect(brokenLinks(root, page)).toEqual([
      'README.md:3 (#quickstart): no heading in README.md has the anchor #quickstart',
      'README.md:3 (docs/data.md#licence): no heading in docs/data.md has the anchor #licence',
    ]);
  });

  test('checks links into the source tree, and ignores other sites, code spans and code blocks', () => {
    const page = {
      file: 'docs/example.md',
      text: [
        '[src](../src/index.ts) [gone](../src/gone.ts) [site](https://example.com/x#y) `[code](nowhere.md)`',
        '```md',
        '[in a block](nowhere.md)',
        '```',
      ].join('\n'),
    };
    expect(brokenLinks(root, page)).toEqual([
      'docs/example.md:1 (../src/gone.ts): no such file or folder src/gone.ts',
    ]);
  });

  test("anchors follow GitHub's slugs: punctuation dropped, code kept, repeats numbered", () => {
    const anchors = headingAnchors(
      [
        '# Testing your app: `ipmatch/testing`',
        '## Vonage Number Insight (optional)',
        '### The `Store` contract',
        '## Fastify, Hono, and fetch runtimes',
        '## Options',
        '## Options',
        '```',
        '# not a heading',
        '```',
      ].join('\n'),
    );
    expect([...anchors]).toEqual([
      'testing-your-app-ipmatchtesting',
      'vonage-number-insight-optional',
      'the-store-contract',
      'fastify-hono-and-fetch-runtimes',
      'options',
      'options-1',
    ]);
  });
});
