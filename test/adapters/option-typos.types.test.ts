import { createIpMatch } from 'ipmatch';
import { ipMatch as express } from 'ipmatch/express';
import { ipMatch as fastify } from 'ipmatch/fastify';
import { ipMatch as fetchGuard } from 'ipmatch/fetch';
import { ipMatch as hono } from 'ipmatch/hono';
import { ipMatch as koa } from 'ipmatch/koa';
import { expectTypeOf, test } from 'vitest';

// Checked by tsc (npm run lint): a typo must not compile in either form of any adapter. That the compiler names
// the options type in its message is option-typos.test.ts's to check.

test('typos fail to compile in both forms of every adapter', () => {
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
  expectTypeOf(_never).toBeFunction();
  void core.close();
});
