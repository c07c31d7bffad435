/** One request's path through src/adapters/, read off real call stacks: the entry file on top, no file twice. */
import type { Server } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { ipMatch as expressIpMatch } from 'ipmatch/express';
import { ipMatch as fastifyIpMatch } from 'ipmatch/fastify';
import { ipMatch as koaIpMatch } from 'ipmatch/koa';
import Koa from 'koa';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GB_PHONE, KR_IP, sharedCore } from '../helpers/adapter-suite.js';

const ADAPTERS = '/src/adapters/';
let limit: number;
beforeAll(() => {
  limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 100;
});
afterAll(() => {
  Error.stackTraceLimit = limit;
});

/** The src/adapters/ files on the current call stack, innermost first, one entry per run of frames. */
function adapterFiles(): string[] {
  const files = (new Error().stack ?? '')
    .split('\n')
    .map((line) => /\(?(\/[^():]+):\d+:\d+\)?$/.exec(line.trim())?.[1])
    .filter((path): path is string => path?.includes(ADAPTERS) === true)
    .map((path) => path.slice(path.indexOf(ADAPTERS) + ADAPTERS.length));
  return files.filter((file, i) => file !== files[i - 1]);
}

/**
 * Each stack goes down from the entry file and never comes back into a file it already passed through: the
 * entry file is its outermost adapter frame and appears nowhere else (no callback into it from shared/).
 */
function expectOneWay(stacks: string[][], entry: string) {
  expect(stacks.length).toBeGreaterThan(0);
  for (const files of stacks) {
    expect(files.at(-1), files.join(' ← ')).toBe(entry);
    expect(new Set(files).size, files.join(' ← ')).toBe(files.length);
  }
}

/** Wraps an accessor of `proto`'s chain with one on `target` that records the stack of each read. */
function recordReads(target: object, name: string, stacks: string[][]) {
  Object.defineProperty(target, name, {
    configurable: true,
    get(this: object) {
      stacks.push(adapterFiles());
      return Reflect.get(Object.getPrototypeOf(target) as object, name, this);
    },
  });
}

describe('the path of one request, as its call stacks show it', () => {
  test("Express: body, the framework's IP and the 403 are each reached from express.ts, nothing calls back", async () => {
    const stacks: string[][] = [];
    const app = express();
    app.set('trust proxy', 'loopback');
    // The client IP: ipMatch walks X-Forwarded-For as req.ip does, asking the app for its compiled trust.
    const get = app.get.bind(app) as (...args: unknown[]) => unknown;
    (app as { get: unknown }).get = (...args: unknown[]) => {
      if (args.length === 1 && args[0] === 'trust proxy fn') stacks.push(adapterFiles());
      return get(...args);
    };
    app.use(express.json());
    app.use((req, res, next) => {
      const body: unknown = req.body;
      Object.defineProperty(req, 'body', {
        configurable: true,
        get: () => {
          stacks.push(adapterFiles());
          return body;
        },
      });
      const json = res.json.bind(res);
      res.json = (value) => {
        stacks.push(adapterFiles());
        return json(value);
      };
      next();
    });
    app.post('/signup', expressIpMatch(sharedCore()), (_req, res) => {
      res.json({ ok: true });
    });
    const res = await request(app).post('/signup').set('X-Forwarded-For', KR_IP).send({ phone: GB_PHONE });
    expect(res.status).toBe(403);
    // The body read, the IP read, the 403 written.
    expect(stacks.length).toBeGreaterThanOrEqual(3);
    expect(stacks).toContainEqual([
      'shared/express-ip.ts',
      'shared/express-request.ts',
      'shared/client-ip.ts',
      'shared/route.ts',
      'express.ts',
    ]);
    expectOneWay(stacks, 'express.ts');
  });

  test("Koa: the framework's IP is read below koa.ts, never by a call back into it", async () => {
    const stacks: string[][] = [];
    const app = new Koa({ proxy: true, maxIpsCount: 1 });
    recordReads(app.request, 'ip', stacks);
    app.use(async (ctx, next) => {
      (ctx.request as { body?: unknown }).body = { phone: GB_PHONE };
      await next();
    });
    app.use(koaIpMatch(sharedCore()));
    const res = await request(app.callback()).post('/signup').set('X-Forwarded-For', KR_IP).send({});
    expect(res.status).toBe(403);
    expectOneWay(stacks, 'koa.ts');
  });

  test("Fastify: the framework's IP and its trust probe are read below fastify.ts", async () => {
    const stacks: string[][] = [];
    const app = Fastify({ trustProxy: '127.0.0.1' });
    app.addHook('onRequest', async (req) => {
      recordReads(req, 'ip', stacks);
    });
    app.post('/signup', { preHandler: fastifyIpMatch(sharedCore()) }, async () => ({ ok: true }));
    await app.ready();
    try {
      const res = await request(app.server as Server)
        .post('/signup')
        .set('X-Forwarded-For', KR_IP)
        .send({ phone: GB_PHONE });
      expect(res.status).toBe(403);
      expectOneWay(stacks, 'fastify.ts');
    } finally {
      await app.close();
    }
  });
});
