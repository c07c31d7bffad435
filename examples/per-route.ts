/**
 * One shared core, two policies. `/signup` blocks a phone from another country outright; `/checkout` only
 * flags it, and asks for a one-time SMS code (a step-up challenge) instead of losing the sale to a 403.
 * Run it with `npm run example:per-route`, then try the curl lines it prints.
 */
import { pathToFileURL } from 'node:url';
import express from 'express';
import { createIpMatch, type IpMatch } from 'ipmatch';
import { ipMatch } from 'ipmatch/express';
import { listenOrExit } from './listen.js';

export interface PerRouteOptions {
  /** The core both routes share (one cache, one set of connections). Default: `createIpMatch()`. */
  core?: IpMatch;
  /**
   * Checks the code the customer got by SMS. Plug in your verification service here (e.g. Vonage Verify).
   * Default: no code is ever right, so a flagged checkout cannot complete.
   */
  checkSmsCode?: (phone: string, code: string) => Promise<boolean>;
}

export function createApp({
  core = createIpMatch(),
  checkSmsCode = async () => false,
}: PerRouteOptions = {}) {
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(express.json());

  // The default policy blocks mismatches with a 403.
  app.post('/signup', ipMatch(core), (req, res) => {
    res.status(201).json({ created: true, matchLevel: req.ipMatch?.matchLevel });
  });

  // Same core, but a mismatch is only flagged here: the handler decides what a flag costs the customer.
  app.post('/checkout', ipMatch(core, { policy: { mismatch: 'flag' } }), async (req, res) => {
    const decision = req.ipMatch!;
    const code: unknown = req.body?.smsCode;
    const phone = decision.phone.number;
    if (decision.action === 'flag') {
      const passed = typeof code === 'string' && phone !== null && (await checkSmsCode(phone, code));
      if (!passed) {
        res.status(401).json({
          challenge: 'sms',
          message: 'We sent a code to your phone. Send it back as smsCode to complete the order.',
          matchLevel: decision.matchLevel,
        });
        return;
      }
    }
    res.status(201).json({ ordered: true, steppedUp: decision.action === 'flag' });
  });
  return app;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options = { port: Number(process.env.PORT ?? 3002), script: 'npm run example:per-route' };
  // Load the GeoIP data before listening, so that the first signup costs what every other one does.
  const core = createIpMatch();
  await core.ready();
  // A stand-in for a real SMS service: in this demo the code is always 123456.
  const app = createApp({ core, checkSmsCode: async (_phone, code) => code === '123456' });
  listenOrExit(app, { ...options, cleanup: () => core.close() }, (port) => {
    const base = `http://127.0.0.1:${port}`;
    const post = (path: string, ip: string, body: string) =>
      `curl -s -X POST ${base}${path} -H 'content-type: application/json' -H 'x-forwarded-for: ${ip}' -d '${body}'`;
    const gb = '"phone":"+447400123456"';
    console.log(`ipmatch per-route example on ${base}\n`);
    console.log(`# signup, GB phone from a KR IP: 403\n${post('/signup', '211.234.0.1', `{${gb}}`)}\n`);
    console.log(
      `# checkout, same: 401 with an SMS challenge\n${post('/checkout', '211.234.0.1', `{${gb}}`)}\n`,
    );
    console.log(
      `# checkout again with the code: 201\n${post('/checkout', '211.234.0.1', `{${gb},"smsCode":"123456"}`)}`,
    );
  });
}
