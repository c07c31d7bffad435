import { execFile, execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countryDb, sha256, sha256Line } from '../fixtures/geo-data.js';
import { startDataServer } from '../helpers/data-server.js';
import { headingAnchors, relativeLinks } from '../helpers/markdown-links.js';
import { installTarball } from '../helpers/tarball.js';

/**
 * The packed tarball, installed the way npm would lay it out, imported by a consumer as ESM and as CJS.
 * The consumer lives under .tmp/ inside the repo, so the package's own dependencies resolve from the
 * repo's node_modules without a network.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const work = join(root, '.tmp', 'consumer');
const installed = join(work, 'node_modules', 'ipmatch');

// stderr piped, not inherited: the bundled data's staleness line would otherwise land in `npm test`'s output.
const run = (file: string) =>
  execFileSync(process.execPath, [file], {
    cwd: work,
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

// Shared with the other tests of the tarball: it is built once per change of the sources.
beforeAll(() => {
  expect(installTarball('consumer')).toBe(work);
  // The build with its type declarations takes minutes of wall time on a loaded 2-core machine.
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed tarball', () => {
  it('ships dist, the docs, the examples, README, SECURITY, NOTICE and LICENSE, and no sources or tests', () => {
    const files = readdirSync(installed);
    expect(files).toEqual(
      expect.arrayContaining(['dist', 'docs', 'examples', 'README.md', 'SECURITY.md', 'NOTICE', 'LICENSE']),
    );
    expect(files).not.toContain('src');
    expect(files).not.toContain('test');
  });

  // In node_modules and on npm's package page, a README link opens only what the tarball holds.
  it('resolves every relative link of the README inside the package, anchors included', () => {
    const readme = readFileSync(join(installed, 'README.md'), 'utf8');
    const links = relativeLinks(readme);
    expect(links.length).toBeGreaterThan(20);
    const dead = links.filter((link) => {
      const [path = '', anchor] = link.split('#');
      const target = path ? join(installed, decodeURIComponent(path)) : join(installed, 'README.md');
      if (!existsSync(target)) return true;
      if (!anchor || !target.endsWith('.md')) return false;
      return !headingAnchors(readFileSync(target, 'utf8')).has(anchor);
    });
    expect(dead).toEqual([]);
  });

  it('imports as ESM and checks a number', () => {
    writeFileSync(
      join(work, 'esm.mjs'),
      `import { createIpMatch, localProvider, IpMatchConfigError } from 'ipmatch';
       import { ipMatch } from 'ipmatch/express';
       import { ipMatch as koaIpMatch } from 'ipmatch/koa';
       import { RedisStore } from 'ipmatch/redis';
       import { ipMatch as fastifyIpMatch, ipMatchPlugin } from 'ipmatch/fastify';
       import { ipMatch as fetchIpMatch } from 'ipmatch/fetch';
       import { ipMatch as honoIpMatch } from 'ipmatch/hono';
       if (typeof koaIpMatch() !== 'function') throw new Error('ipmatch/koa');
       if (typeof fastifyIpMatch() !== 'function' || typeof ipMatchPlugin !== 'function') throw new Error('ipmatch/fastify');
       if (typeof honoIpMatch() !== 'function') throw new Error('ipmatch/hono');
       const guard = fetchIpMatch({ clientIp: 'cf-connecting-ip' });
       const { response } = await guard(new Request('http://x/', { method: 'POST', headers: {
         'cf-connecting-ip': '211.234.0.1', 'content-type': 'application/json' }, body: '{"phone":"+447400123456"}' }));
       if (response?.status !== 403) throw new Error('ipmatch/fetch');
       if (typeof RedisStore !== 'function') throw new Error('ipmatch/redis');
       const d = await createIpMatch().check({ phone: '+447400123456', ip: '211.234.0.1' });
       console.log(JSON.stringify({ action: d.action, reason: d.reason, mw: typeof ipMatch(), lp: typeof localProvider,
         err: typeof IpMatchConfigError }));`,
    );
    expect(JSON.parse(run('esm.mjs'))).toEqual({
      action: 'block',
      reason: 'country_mismatch',
      mw: 'function',
      lp: 'function',
      err: 'function',
    });
  });

  it('requires as CJS and checks a number', () => {
    writeFileSync(
      join(work, 'cjs.cjs'),
      `const { createIpMatch } = require('ipmatch');
       const { ipMatch } = require('ipmatch/express');
       if (typeof require('ipmatch/koa').ipMatch() !== 'function') throw new Error('ipmatch/koa');
       if (typeof require('ipmatch/redis').RedisStore !== 'function') throw new Error('ipmatch/redis');
       if (typeof require('ipmatch/fastify').ipMatch() !== 'function') throw new Error('ipmatch/fastify');
       if (typeof require('ipmatch/fastify').ipMatchPlugin !== 'function') throw new Error('ipmatch/fastify');
       if (typeof require('ipmatch/hono').ipMatch() !== 'function') throw new Error('ipmatch/hono');
       if (typeof require('ipmatch/fetch').ipMatch({ clientIp: 'fly-client-ip' }) !== 'function') throw new Error('ipmatch/fetch');
       createIpMatch().check({ phone: '+447400123456', ip: '81.2.69.160' }).then((d) =>
         console.log(JSON.stringify({ action: d.action, reason: d.reason, country: d.ip.country, mw: typeof ipMatch() })));`,
    );
    expect(JSON.parse(run('cjs.cjs'))).toEqual({
      action: 'allow',
      reason: 'country_match',
      country: 'GB',
      mw: 'function',
    });
  });

  it('runs the ipmatch command from the bin entry', () => {
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      bin: { ipmatch: string };
    };
    const bin = join(installed, pkg.bin.ipmatch);
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    const out = execFileSync(bin, ['check', '+447400123456', '211.234.0.1', '--json'], {
      cwd: work,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(JSON.parse(out)).toMatchObject({
      action: 'block',
      reason: 'country_mismatch',
      ip: { country: 'KR' },
    });
  });

  it('imports ipmatch/metrics as ESM and CJS, and counts a decision logged by decisionLog', () => {
    const script = (load: string) =>
      `${load}
       const registry = new Registry();
       const lines = [];
       const log = decisionLog({ destination: { info: (line) => lines.push(line) } });
       const core = createIpMatch({ onDecision: [prometheusMetrics({ registry }), log] });
       core.check({ phone: '+447400123456', ip: '211.234.0.1' }).then(async () => {
         await core.close();
         const text = await registry.metrics();
         console.log(JSON.stringify({ counted: text.includes('reason="country_mismatch"} 1'), reason: lines[0].reason,
           otel: typeof openTelemetryMetrics }));
       });`;
    writeFileSync(
      join(work, 'metrics.mjs'),
      script(`import { createIpMatch, decisionLog } from 'ipmatch';
       import { openTelemetryMetrics, prometheusMetrics } from 'ipmatch/metrics';
       import { Registry } from 'prom-client';`),
    );
    writeFileSync(
      join(work, 'metrics.cjs'),
      script(`const { createIpMatch, decisionLog } = require('ipmatch');
       const { openTelemetryMetrics, prometheusMetrics } = require('ipmatch/metrics');
       const { Registry } = require('prom-client');`),
    );
    const expected = { counted: true, reason: 'country_mismatch', otel: 'function' };
    expect(JSON.parse(run('metrics.mjs'))).toEqual(expected);
    expect(JSON.parse(run('metrics.cjs'))).toEqual(expected);
  });

  it('runs a Nest app on ipmatch/nestjs as ESM, requires it as CJS, and the other entry points load nothing of Nest', () => {
    const names = ['IpMatchModule', 'IpMatchGuard', 'IpMatchRoute', 'IpMatchDecision', 'IPMATCH_CORE'];
    // A Nest app from the built package: decorators applied as compiled code applies them, DI from @Inject alone.
    writeFileSync(
      join(work, 'nest.mjs'),
      `import 'reflect-metadata';
       import { Controller, HttpCode, Module, Post, UseGuards } from '@nestjs/common';
       import { NestFactory } from '@nestjs/core';
       import * as nest from 'ipmatch/nestjs';
       const { IpMatchDecision, IpMatchGuard, IpMatchModule, IpMatchRoute } = nest;
       class Signup { signup(decision) { return { reason: decision.reason }; } }
       const method = Object.getOwnPropertyDescriptor(Signup.prototype, 'signup');
       for (const d of [Post('signup'), HttpCode(200), UseGuards(IpMatchGuard), IpMatchRoute({ name: 'signup' })])
         d(Signup.prototype, 'signup', method);
       IpMatchDecision()(Signup.prototype, 'signup', 0);
       Controller()(Signup);
       class App {}
       Module({ imports: [IpMatchModule.forRoot({ logger: { warn() {}, error() {} } })], controllers: [Signup] })(App);
       const app = await NestFactory.create(App, { logger: false });
       app.set('trust proxy', 'loopback');
       await app.listen(0, '127.0.0.1');
       const statuses = [];
       for (const ip of ['81.2.69.160', '211.234.0.1']) {
         const res = await fetch((await app.getUrl()) + '/signup', { method: 'POST', body: '{"phone":"+447400123456"}',
           headers: { 'content-type': 'application/json', 'x-forwarded-for': ip } });
         statuses.push(res.status + ' ' + ((await res.json()).reason));
       }
       await app.close();
       console.log(JSON.stringify({ names: ${JSON.stringify(names)}.filter((n) => n in nest), statuses }));`,
    );
    writeFileSync(
      join(work, 'nest.cjs'),
      `const nest = require('ipmatch/nestjs');
       console.log(JSON.stringify({ names: ${JSON.stringify(names)}.filter((n) => n in nest), global: nest.IpMatchModule.forRoot().global }));`,
    );
    expect(JSON.parse(run('nest.mjs'))).toEqual({
      names,
      statuses: ['200 country_match', '403 country_mismatch'],
    });
    expect(JSON.parse(run('nest.cjs'))).toEqual({ names, global: true });
    writeFileSync(
      join(work, 'no-nest.cjs'),
      `for (const entry of ['', '/express', '/koa', '/fastify', '/hono', '/fetch', '/redis', '/metrics', '/testing'])
         require('ipmatch' + entry);
       console.log(JSON.stringify(Object.keys(require.cache).filter((f) => /@nestjs|reflect-metadata|rxjs/.test(f))));`,
    );
    expect(JSON.parse(run('no-nest.cjs'))).toEqual([]);
  });

  it('imports ipmatch/testing and starts a fake Vonage', () => {
    writeFileSync(
      join(work, 'testing.mjs'),
      `import { startFakeVonage } from 'ipmatch/testing';
       const fake = await startFakeVonage();
       console.log(JSON.stringify({ url: fake.url.startsWith('http://127.0.0.1:') }));
       await fake.close();`,
    );
    expect(JSON.parse(run('testing.mjs'))).toEqual({ url: true });
  });

  it('updates the GeoIP data with npx ipmatch db update, and the installed package reads it', async () => {
    const db = countryDb('FR', 1);
    const server = await startDataServer({ '/x.mmdb': db, '/x.mmdb.sha256': sha256Line(db, 'x.mmdb') });
    // What npm install does for a dependency's bin, so that npx finds it without the registry.
    mkdirSync(join(work, 'node_modules', '.bin'), { recursive: true });
    symlinkSync('../ipmatch/dist/cli.js', join(work, 'node_modules', '.bin', 'ipmatch'));
    try {
      const args = ['--no', 'ipmatch', 'db', 'update', '--url', `${server.url}/x.mmdb`];
      const { stdout, stderr } = await promisify(execFile)(
        'npx',
        [...args, '--sha256-url', `${server.url}/x.mmdb.sha256`, '--dir', './data', '--json'],
        { cwd: work, encoding: 'utf8', timeout: 60_000 },
      );
      expect(stderr).toBe('');
      expect(JSON.parse(stdout)).toMatchObject({
        status: 'updated',
        path: join(work, 'data', 'current.mmdb'),
        sha256: sha256(db),
        previousBuildDate: null,
      });
      writeFileSync(
        join(work, 'data-dir.cjs'),
        `const { createIpMatch, localProvider, updateDatabase } = require('ipmatch');
         process.env.IPMATCH_DATA_DIR = './data';
         const provider = localProvider();
         createIpMatch({ provider }).check({ phone: '+447400123456', ip: '81.2.69.160' }).then((d) =>
           console.log(JSON.stringify({ country: d.ip.country, origin: provider.info().origin, update: typeof updateDatabase })));`,
      );
      expect(JSON.parse(run('data-dir.cjs'))).toEqual({
        country: 'FR',
        origin: 'data-dir',
        update: 'function',
      });
    } finally {
      await server.close();
    }
  });
});
