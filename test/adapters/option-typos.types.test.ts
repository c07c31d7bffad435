import { createIpMatch } from 'ipmatch';
import { ipMatch as express } from 'ipmatch/express';
import { ipMatch as fastify } from 'ipmatch/fastify';
import { ipMatch as fetchGuard } from 'ipmatch/fetch';
import { ipMatch as hono } from 'ipmatch/hono';
import { ipMatch as koa } from 'ipmatch/koa';
import { expectTypeOf, test } from 'vitest';

// Checked by tsc (npm run lint): a typo must not compile in either form of any adapter, and an option set to
// `undefined` (`process.env.X` under exactOptionalPropertyTypes) must.

test('typos fail to compile in both forms of every adapter; undefined options compile', () => {
  const core = createIpMatch();
  const _never = () => {
    // @ts-expect-error a typo of mode
    express({ mdoe: 'observe' });
    // @ts-expect-error a typo of mode
    express(core, { mdoe: 'observe' });
    // @ts-expect-error a typo of mode
    koa({ mdoe: 'observe' });
    // @ts-expect-error a typo of phone
    fastify({ phon: 'phone' });
    // @ts-expect-error a typo of phone
    hono(core, { phon: 'phone' });
    // @ts-expect-error a typo of mode
    fetchGuard({ clientIp: 'cf-connecting-ip', mdoe: 'observe' });
  };
  const env = process.env as Record<string, string | undefined>;
  const _compiles = () => {
    express({ defaultCountry: env.DEFAULT_COUNTRY, mode: undefined, phone: undefined });
    koa(core, { name: env.ROUTE_NAME, country: undefined });
    fetchGuard({ clientIp: 'cf-connecting-ip', timeoutMs: undefined, onBlock: undefined });
  };
  expectTypeOf(_never).toBeFunction();
  expectTypeOf(_compiles).toBeFunction();
  void core.close();
});
