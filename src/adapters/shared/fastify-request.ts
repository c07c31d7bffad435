/** What ipmatch reads of a Fastify request: its IP, its server's `trustProxy`, its route pattern. */
import type { FastifyRequest } from 'fastify';
import type { FrameworkIp, ProxyTrust } from './client-ip-types.js';
import type { Framework } from './route.js';
import { announcesBody, NO_BODY_PARSER, UnreadBody } from './unread-body.js';
import { mediaType } from './web-request.js';

// TEST-NET-3 addresses, which no real list of proxies names: a chain only `trustProxy: true` believes whole.
const FORGED = Array.from({ length: 16 }, (_, i) => `203.0.113.${i + 1}`);
const PROBE = {
  raw: { headers: { 'x-forwarded-for': FORGED.join(', ') }, socket: { remoteAddress: '203.0.113.100' } },
};

const trustByServer = new WeakMap<object, ProxyTrust>();

/**
 * Fastify keeps `trustProxy` private, so: without it requests have no `ips`; with it, Fastify's own `ip`
 * getter is asked about a forged 16-hop chain, which only unbounded trust follows to its first entry.
 */
function proxyTrust(request: FastifyRequest): ProxyTrust {
  let trust = trustByServer.get(request.server);
  if (trust === undefined) {
    trust = !('ips' in request) ? 'off' : Reflect.get(request, 'ip', PROBE) === FORGED[0] ? 'all' : 'some';
    trustByServer.set(request.server, trust);
  }
  return trust;
}

const fastifyIp: FrameworkIp<FastifyRequest> = {
  ip: (request) => request.ip,
  trust: proxyTrust,
  advice: {
    enableTrust: "Fastify({ trustProxy: … }) set to its address or hop count (e.g. '127.0.0.1' or 1)",
    restrictTrust:
      "set Fastify({ trustProxy }) to your proxies' addresses (e.g. '10.0.0.0/8') or a hop count (e.g. 1)",
  },
};

/**
 * The parsed body. Fastify parses every body that arrives or answers 415 itself, so an unparsed body means a
 * catch-all content-type parser that keeps the stream: the operator's to fix. No body at all is the client's,
 * and so is text (Fastify's own text/plain parser gives a string), where no phone can be found: a 415.
 */
export function parsedBody({ body, headers }: FastifyRequest): unknown {
  if (body === undefined) return announcesBody(headers) ? NO_BODY_PARSER : undefined;
  const text = typeof body === 'string' && mediaType(headers['content-type']) !== 'application/json';
  return text ? UnreadBody.unsupported : body;
}

/**
 * Fastify as the route code reads it. Everything the route and the client-IP code call per request is here,
 * below the entry file, so that no call goes back up into fastify.ts.
 */
export const fastifyFramework: Framework<FastifyRequest> = {
  name: 'ipMatch (ipmatch/fastify)',
  bodyParsers: 'a content-type parser (Fastify parses JSON itself; register @fastify/formbody for forms)',
  ip: { raw: (request) => request.raw, framework: fastifyIp },
  // The route as registered, prefix included ('/api/users/:id'); undefined in a not-found handler.
  routePattern: (request) => request.routeOptions.url ?? null,
  method: (request) => request.method,
};
