import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

test('the README stays a front door: at most 250 lines, the rest on docs/ pages', () => {
  const lines = readme.trimEnd().split('\n').length;
  expect(
    lines,
    'move the details to a page under docs/ and link it from the "Topics" table',
  ).toBeLessThanOrEqual(250);
});

test('the two commands a newcomer runs first are near the top', () => {
  const top = readme.split('\n').slice(0, 30).join('\n');
  expect(top).toContain('npm install && npm run demo');
  expect(top).toContain('npm install && npm test');
});

const security = readFileSync(new URL('../../SECURITY.md', import.meta.url), 'utf8');
const frameworks = readFileSync(new URL('../../docs/frameworks.md', import.meta.url), 'utf8');

test('SECURITY.md keeps the data fresh with the command that does it, not by hand', () => {
  expect(security).toContain('npx ipmatch db update');
  expect(security).not.toMatch(/download (a current MMDB|it) yourself/i);
});

test('the README names the decision of all five adapters', () => {
  const section = readme.slice(
    readme.indexOf('## The decision, in brief'),
    readme.indexOf('## From observe'),
  );
  for (const where of [
    'req.ipMatch',
    'ctx.state.ipMatch',
    'request.ipMatch',
    "c.get('ipMatch')",
    'const { decision, response } = await guard(request)',
  ])
    expect(section).toContain(where);
});

test('docs/frameworks.md shows Hono on Node and a fetch handler on plain Node, with no platform header', () => {
  for (const heading of ['### Hono on Node', '### A fetch handler on plain Node']) {
    const start = frameworks.indexOf(heading);
    expect(start, heading).toBeGreaterThan(0);
    const section = frameworks.slice(start, frameworks.indexOf('\n#', start + heading.length));
    const code = section.slice(section.indexOf('```ts'), section.lastIndexOf('```'));
    expect(code).toContain("from '@hono/node-server'");
    // A platform's header is its word alone; on Node with no platform in front, the socket's peer decides.
    expect(code).not.toMatch(/clientIp: '(cf-connecting-ip|x-real-ip|fly-client-ip|true-client-ip)'/);
  }
});

test('the examples table runs each example by an npm script that exists', () => {
  const { scripts } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const rows = [
    ...readme.matchAll(/^\| \[`(examples\/[\w-]+\.ts)`\]\([^)]+\) \| `npm (?:run )?([\w:-]+)` \|/gm),
  ];
  expect(rows.length).toBeGreaterThanOrEqual(6);
  for (const [, file, script] of rows) expect(scripts[script!], `npm run ${script}`).toContain(file);
});
