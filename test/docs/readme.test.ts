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
