/**
 * A signup route guarded by ipmatch on the offline default: a signup whose IP country differs from its
 * phone's country gets a 403. Run it with `npm start`, then try the curl lines it prints.
 */
import { pathToFileURL } from 'node:url';
import express from 'express';
import type { IpMatchOptions } from 'ipmatch';
import { ipMatch } from 'ipmatch/express';
import { listenOrExit } from './listen.js';

export function createApp(options: IpMatchOptions = {}) {
  const app = express();
  // Behind a reverse proxy on this host: trust X-Forwarded-For from loopback only, never from anyone.
  app.set('trust proxy', 'loopback');
  app.use(express.json());

  app.post('/signup', ipMatch({ ...options, phone: 'phone' }), (req, res) => {
    // Reached for 'allow' and 'flag'. A flagged signup might get an SMS check before the account is live.
    res.status(201).json({ created: true, ipMatch: req.ipMatch });
  });
  return app;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options = { port: Number(process.env.PORT ?? 3000), script: 'npm start' };
  listenOrExit(createApp(), options, (port) => {
    const url = `http://127.0.0.1:${port}/signup`;
    const post = (phone: string, ip: string) =>
      `curl -s -X POST ${url} -H 'content-type: application/json' -H 'x-forwarded-for: ${ip}' -d '{"phone":"${phone}"}'`;
    console.log(`ipmatch signup example on ${url}\n`);
    console.log(`# GB phone from a GB IP: 201\n${post('+447400123456', '81.2.69.160')}\n`);
    console.log(`# GB phone from a KR IP: 403\n${post('+447400123456', '211.234.0.1')}\n`);
    console.log(`# not a phone number: 400\n${post('call me', '81.2.69.160')}`);
  });
}
