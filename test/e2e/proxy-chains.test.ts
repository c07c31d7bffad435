/**
 * Real servers on 127.0.0.1, one per adapter, each behind the proxy setups users run: the socket peer
 * (127.0.0.1) plays the proxy nearest the app, and the rest of the chain is in the headers it forwards. The
 * client forges left-most X-Forwarded-For entries and X-Client-IP / True-Client-IP / X-Real-IP headers; the
 * decision must name the address the proxies saw, and a forged address in the phone's country must not pass.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { serve } from '@hono/node-server';
import { bodyParser } from '@koa/bodyparser';
import express from 'express';
import fc from 'fast-check';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { createIpMatch, type IpMatch } from 'ipmatch';
import { ipMatch as expressIpMatch } from 'ipmatch/express';
import { ipMatch as fastifyIpMatch } from 'ipmatch/fastify';
import { ipMatch as fetchIpMatch } from 'ipmatch/fetch';
import { ipMatch as honoIpMatch } from 'ipmatch/hono';
import { ipMatch as koaIpMatch } from 'ipmatch/koa';
import Koa from 'koa';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GB_IP, GB_PHONE, KR_IP, recorder } from '../helpers/adapter-suite.js';

/** Route options shared by every adapter: where the client IP comes from, and whom to believe. */
interface ChainRoute {
  clientIp: string;
  trustedProxies: string[];
}

/**
 * One proxy setup: the route's options, and the headers the chain hands the app for a client at `client`
 * that sent `forged` as its own X-Forwarded-For.
 */
interface Setup {
  name: string;
  route: ChainRoute;
  headers(client: string, forged: readonly string[]): Record<string, string | string[]>;
}

const xff = (...hops: readonly string[]) => hops.join(', ');
const CDN_EDGE = '104.16.0.5'; // a CDN edge in front of nginx, in the range the user trusts
const GCP_LB = '34.120.7.7'; // the load balancer's own address, which GCP appends after the client's
const setups: Setup[] = [
  {
    name: "nginx ($proxy_add_x_forwarded_for appends the peer's address)",
    route: { clientIp: 'request-ip', trustedProxies: ['loopback'] },
    headers: (client, forged) => ({ 'x-forwarded-for': xff(...forged, client) }),
  },
  {
    name: 'AWS ALB (appends; X-Real-IP and friends pass through untouched)',
    route: { clientIp: 'request-ip', trustedProxies: ['loopback', '10.0.0.0/8'] },
    headers: (client, forged) => ({
      'x-forwarded-for': xff(...forged, client),
      'x-amzn-trace-id': 'Root=1-0-0',
    }),
  },
  {
    name: 'GCP load balancer (appends "client, lb")',
    route: { clientIp: 'request-ip', trustedProxies: ['loopback', `${GCP_LB}/32`, '35.191.0.0/16'] },
    headers: (client, forged) => ({ 'x-forwarded-for': xff(...forged, client, GCP_LB) }),
  },
  {
    name: 'Cloudflare, walking its appended X-Forwarded-For',
    route: { clientIp: 'request-ip', trustedProxies: ['loopback', '104.16.0.0/13'] },
    headers: (client, forged) => ({ 'cf-connecting-ip': client, 'x-forwarded-for': xff(...forged, client) }),
  },
  {
    name: 'Cloudflare, naming CF-Connecting-IP (believed from its trusted ranges only)',
    route: { clientIp: 'cf-connecting-ip', trustedProxies: ['loopback', '104.16.0.0/13'] },
    headers: (client, forged) => ({ 'cf-connecting-ip': client, 'x-forwarded-for': xff(...forged, client) }),
  },
  {
    name: 'two proxies: a CDN, then nginx on this host',
    route: { clientIp: 'request-ip', trustedProxies: ['loopback', '104.16.0.0/13'] },
    headers: (client, forged) => ({ 'x-forwarded-for': xff(...forged, client, CDN_EDGE) }),
  },
  {
    name: 'two proxies, each sending its own X-Forwarded-For line',
    route: { clientIp: 'request-ip', trustedProxies: ['loopback', '104.16.0.0/13'] },
    headers: (client, forged) => ({ 'x-forwarded-for': [xff(...forged, client), CDN_EDGE] }),
  },
];

/** What a client writes to pass as British: every header request-ip used to believe ahead of X-Forwarded-For. */
const FORGED_HEADERS = {
  'x-client-ip': GB_IP,
  'true-client-ip': GB_IP,
  'x-real-ip': GB_IP,
  'x-cluster-client-ip': GB_IP,
  forwarded: `for=${GB_IP}`,
};

/** A listening server for one adapter, with one route per setup at `/<index>`. */
type Start = (core: IpMatch) => Promise<Server>;

const listen = async (server: Server) => {
  if (!server.listening) {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  }
  return server;
};

const answer = (decision: unknown) => ({ decision });

const adapters: Record<string, Start> = {
  Express: async (core) => {
    const app = express();
    app.use(express.json());
    setups.forEach(({ route }, i) => {
      app.post(`/${i}`, expressIpMatch(core, route), (req, res) => {
        res.json(answer(req.ipMatch));
      });
    });
    return listen(createServer(app));
  },
  Koa: async (core) => {
    const app = new Koa();
    app.use(bodyParser());
    const routes = setups.map(({ route }) => koaIpMatch(core, route));
    app.use((ctx, next) => routes[Number(ctx.path.slice(1))]!(ctx, next));
    app.use((ctx) => {
      ctx.body = answer(ctx.state.ipMatch);
    });
    return listen(createServer(app.callback()));
  },
  Fastify: async (core) => {
    const app = Fastify();
    setups.forEach(({ route }, i) => {
      app.post(`/${i}`, { preHandler: fastifyIpMatch(core, route) }, async (req) => answer(req.ipMatch));
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return app.server;
  },
  'Hono on @hono/node-server': async (core) => {
    const app = new Hono();
    setups.forEach(({ route }, i) => {
      app.post(`/${i}`, honoIpMatch(core, route), (c) => c.json(answer(c.get('ipMatch'))));
    });
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
    return listen(server);
  },
  'fetch on plain Node': async (core) => {
    const guards = setups.map(({ route }) => fetchIpMatch(core, route));
    return listen(
      createServer(async (req, res) => {
        const { decision, response } = await guards[Number(req.url?.slice(1))]!(await toRequest(req), {
          remoteAddress: req.socket.remoteAddress,
        });
        const reply = response ?? Response.json(answer(decision));
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(await reply.text());
      }),
    );
  },
};

/** A Node request as a fetch Request: each header line kept (repeated ones joined, as Headers does), body read. */
async function toRequest(req: IncomingMessage): Promise<Request> {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new Request(`http://127.0.0.1${req.url}`, {
    method: req.method!,
    headers,
    body: Buffer.concat(chunks),
  });
}

describe.each(Object.keys(adapters))('%s behind a proxy chain', (adapter) => {
  let server: Server;
  let core: IpMatch;
  const { logger } = recorder();

  beforeAll(async () => {
    core = createIpMatch({ logger });
    server = await adapters[adapter]!(core);
  });
  afterAll(async () => {
    server.close();
    await core.close();
  });

  const post = (i: number, headers: Record<string, string | string[]>) => {
    let req = request(server).post(`/${i}`);
    for (const [name, value] of Object.entries(headers)) req = req.set(name, value as string);
    return req.send({ phone: GB_PHONE });
  };

  describe.each(setups.map((setup, i) => [setup.name, setup, i] as const))('%s', (_, setup, i) => {
    test('a client in KR who forges a GB address everywhere is a mismatch, named by its own address', async () => {
      const res = await post(i, { ...FORGED_HEADERS, ...setup.headers(KR_IP, [GB_IP, '10.0.0.9']) });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: 'ip_phone_mismatch', reason: 'country_mismatch' });
    });

    test('a client in GB passes, whatever it forged to the left', async () => {
      const res = await post(i, { ...FORGED_HEADERS, ...setup.headers(GB_IP, [KR_IP]) });
      expect(res.status).toBe(200);
      expect(res.body.decision).toMatchObject({ reason: 'country_match', ip: { address: GB_IP } });
    });

    test('forged header content never chooses the IP', async () => {
      const junk = fc.oneof(fc.constant(GB_IP), fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 20 }));
      const noComma = (s: string) => s.replace(/[,\r\n\0]/g, '');
      await fc.assert(
        fc.asyncProperty(
          fc.array(junk.map(noComma), { maxLength: 4 }),
          junk.map(noComma),
          async (forged, one) => {
            const res = await post(i, {
              'x-client-ip': one,
              'true-client-ip': one,
              'x-real-ip': one,
              ...setup.headers(KR_IP, forged),
            });
            expect(res.status).toBe(403);
          },
        ),
        { numRuns: 15 },
      );
    });
  });
});
