/** What ipmatch reads of a Koa context: its IP, its app's `proxy` and `maxIpsCount`, its route pattern. */
import type { Context } from 'koa';
import type { FrameworkIp, ProxyTrust } from './client-ip-types.js';
import type { Framework } from './route.js';

// Koa 2 and 3 alike: `maxIpsCount` 0 makes ctx.ip the left-most X-Forwarded-For entry, which the client writes.
function proxyTrust({ app }: Context): ProxyTrust {
  return !app.proxy ? 'off' : app.maxIpsCount > 0 ? 'some' : 'all';
}

const koaIp: FrameworkIp<Context> = {
  ip: (ctx) => ctx.ip,
  trust: proxyTrust,
  advice: {
    enableTrust:
      'new Koa({ proxy: true, maxIpsCount: 1 }) (maxIpsCount: the number of proxies in front of the app)',
    restrictTrust:
      'with app.maxIpsCount 0, ctx.ip is the left-most X-Forwarded-For entry, which the client writes; set ' +
      'maxIpsCount to the number of proxies in front of the app (e.g. new Koa({ proxy: true, maxIpsCount: 1 }))',
  },
};

/**
 * The pattern @koa/router matched, prefix included ('/api/users/:id'). @koa/router (8 to 15, as read) sets both
 * `ctx._matchedRoute` and `ctx.routerPath` to the layer's path before a route's middleware runs; other routers
 * that follow the convention set one of them.
 */
function routePattern(ctx: Context): string | null {
  const c = ctx as { _matchedRoute?: unknown; routerPath?: unknown };
  const path = c._matchedRoute ?? c.routerPath;
  return typeof path === 'string' ? path : null;
}

/**
 * Koa as the route code reads it. Everything the route and the client-IP code call per request is here,
 * below the entry file, so that no call goes back up into koa.ts.
 */
export const koaFramework: Framework<Context> = {
  name: 'ipMatch (ipmatch/koa)',
  bodyParsers: 'a Koa body parser such as bodyParser() from @koa/bodyparser (or koa-bodyparser)',
  ip: { raw: (ctx) => ctx.req, framework: koaIp },
  routePattern,
  method: (ctx) => ctx.method,
};
