import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { formatLine } from '../src/core/logger.js';
import { BUNDLED_STALE } from './setup/quiet.js';

/**
 * First contact is quiet: a warning is one line, the bundled data's staleness is said once per process, and a
 * test that prints a warning nobody captured fails (test/setup/quiet.ts), so `npm test` stays quiet.
 */
const root = fileURLToPath(new URL('..', import.meta.url));

describe('the default logger', () => {
  test('writes a warning and its meta on one line, key=value', () => {
    expect(
      formatLine('ipmatch: the cache store failed', {
        code: 'IPMATCH_STORE_UNAVAILABLE',
        error: 'connect ECONNREFUSED 127.0.0.1:6379',
        ageDays: 171,
        retry: true,
        nothing: undefined,
        limits: { max: 600 },
      }),
    ).toBe(
      'ipmatch: the cache store failed (code=IPMATCH_STORE_UNAVAILABLE error="connect ECONNREFUSED 127.0.0.1:6379" ageDays=171 retry=true limits={"max":600})',
    );
  });

  test('does not repeat a string the message already quotes, and needs no meta', () => {
    expect(formatLine('ipmatch: the GeoIP data (x.mmdb) is old', { code: 'C', source: 'x.mmdb' })).toBe(
      'ipmatch: the GeoIP data (x.mmdb) is old (code=C)',
    );
    expect(formatLine('ipmatch: plain')).toBe('ipmatch: plain');
  });

  test('keeps a line one line: newlines and escape sequences in any field are escaped', () => {
    const line = formatLine('ipmatch: bad\nfile', { path: '/tmp/a\u001b]0;title\u0007.mmdb' });
    for (const control of ['\n', '\u001b', '\u0007']) expect(line).not.toContain(control);
    expect(line).toContain('\\u001b');
  });
});

describe('a process with several default cores on the bundled data', () => {
  test('prints one line on stderr: the staleness warning, with the command that fixes it', () => {
    const script = `
      const { createIpMatch } = await import(${JSON.stringify(`${root}src/index.ts`)});
      for (let i = 0; i < 3; i++) {
        const core = createIpMatch();
        const d = await core.check({ phone: '+447400123456', ip: '81.2.69.160' });
        process.stdout.write(d.reason + '\\n');
        await core.close();
      }`;
    const env = { ...process.env, IPMATCH_DATA_DIR: `${root}.tmp/no-data-dir` };
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.stdout).toBe('country_match\n'.repeat(3));
    const lines = child.stderr.split('\n').filter(Boolean);
    // The bundled snapshot is frozen at release: once it is older than 45 days it says so, once.
    expect(lines.length).toBeLessThanOrEqual(1);
    for (const line of lines) {
      expect(line).toMatch(BUNDLED_STALE);
      expect(line).toContain('Run `npx ipmatch db update`');
    }
  });
});

describe('npm test stays quiet', () => {
  test('a test that prints a warning nobody captured fails, naming the line; one that captures it passes', () => {
    const child = spawnSync(
      process.execPath,
      [
        `${root}node_modules/vitest/vitest.mjs`,
        'run',
        'test/fixtures/noisy/noisy.test.ts',
        '--reporter=verbose',
      ],
      {
        cwd: root,
        env: { ...process.env, IPMATCH_NOISY_FIXTURE: '1', CI: '', NO_COLOR: '1', FORCE_COLOR: '0' },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    const out = child.stdout + child.stderr;
    expect(child.status, out).toBe(1);
    expect(out).toMatch(/printed 1 line\(s\) to stderr that nobody captured/);
    expect(out).toContain('code=IPMATCH_POLICY_RESULT');
    expect(out).toMatch(/Tests +1 failed \| 1 passed/);
  });
});
