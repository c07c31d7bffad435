/**
 * A Koa checkout route guarded by ipmatch on the offline default: an order whose IP country differs from
 * its phone's country gets a 403. Run it with `npm run example:koa`, then try the curl lines it prints.
 */
import { pathToFileURL } from 'node:url';
import { bodyParser } from '@koa/bodyparser';
import type { IpMatchOptions } from 'ipmatch';
import { ipMatch } from 'ipmatch/koa';
import Koa from 'koa';
import { listenOrExit } from './listen.js';

export function createApp(options: IpMatchOptions = {}) {
  // Behind one reverse proxy: ctx.ip is the address that proxy appended to X-Forwarded-For. With
  // maxIpsCount 0 it would be the left-most entry, which the client writes itself.
  const app = new Koa({ proxy: true, maxIpsCount: 1 });
  app.use(bodyParser()); // ipMatch reads the phone from ctx.request.body

  // With @koa/router this is router.post('/checkout', guard, handler).
  const guard = ipMatch({ ...options, phone: 'billing.phone' });
  app.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== '/checkout') return next();
    await guard(ctx, async () => {
      // Reached for 'allow' and 'flag'. A flagged order might go to manual review before it ships.
      ctx.status = 201;
      ctx.body = { ordered: true, ipMatch: ctx.state.ipMatch };
    });
  });
  return app;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options = { port: Number(process.env.PORT ?? 3001), script: 'npm run example:koa' };
  listenOrExit(createApp().callback(), options, (port) => {
    const url = `http://127.0.0.1:${port}/checkout`;
    const post = (phone: string, ip: string) =>
      `curl -s -X POST ${url} -H 'content-type: application/json' -H 'x-forwarded-for: ${ip}' ` +
      `-d '{"billing":{"phone":"${phone}"},"items":["sku-1"]}'`;
    console.log(`ipmatch Koa checkout example on ${url}\n`);
    console.log(`# GB phone from a GB IP: 201\n${post('+447400123456', '81.2.69.160')}\n`);
    console.log(`# GB phone from a KR IP: 403\n${post('+447400123456', '211.234.0.1')}\n`);
    console.log(`# not a phone number: 400\n${post('call me', '81.2.69.160')}`);
  });
}
