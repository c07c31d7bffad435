/**
 * A signup route whose phone facts come from Vonage Number Insight (roaming, carrier, validity), set from
 * VONAGE_API_KEY / VONAGE_API_SECRET. Without them it starts the fake Number Insight server from
 * `ipmatch/testing` and says so, so it runs with no account. Run it with `npm run example:vonage`.
 */
import { pathToFileURL } from 'node:url';
import express from 'express';
import { createIpMatch, type IpMatchProvider, vonageProvider } from 'ipmatch';
import { ipMatch } from 'ipmatch/express';
import { type FakeVonage, startFakeVonage } from 'ipmatch/testing';
import { listenOrExit } from './listen.js';

export interface VonageExample {
  app: express.Express;
  /** The fake Number Insight server, when the credentials were not set. */
  fake: FakeVonage | undefined;
  /** Closes the core (Vonage's keep-alive sockets) and the fake server. */
  close(): Promise<void>;
}

export async function createApp(
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = console.log,
): Promise<VonageExample> {
  let provider: IpMatchProvider;
  let fake: FakeVonage | undefined;
  const { VONAGE_API_KEY: apiKey, VONAGE_API_SECRET: apiSecret } = env;
  if (apiKey && apiSecret) {
    // Advanced lookups are billed; the core's cache keeps it to one per number per 10 minutes.
    provider = vonageProvider({ apiKey, apiSecret, level: 'advanced' });
  } else {
    fake = await startFakeVonage();
    log(`VONAGE_API_KEY / VONAGE_API_SECRET are not set: using a fake Number Insight server at ${fake.url}`);
    provider = vonageProvider({ apiKey: 'test-key', apiSecret: 'test-secret', baseUrl: fake.url });
  }
  // A Vonage outage becomes a decision with `error`; 'allow' lets signups through (fail open).
  const core = createIpMatch({ provider, policy: { error: 'allow' }, timeoutMs: 2000 });
  // The GeoIP data (the IP's side of every check) loaded before the app listens.
  await core.ready();

  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(express.json());
  app.post('/signup', ipMatch(core), (req, res) => {
    const d = req.ipMatch!;
    res.status(201).json({ created: true, matchLevel: d.matchLevel, reason: d.reason, phone: d.phone });
  });

  return {
    app,
    fake,
    async close() {
      await core.close();
      await fake?.close();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const example = await createApp();
  const options = {
    port: Number(process.env.PORT ?? 3003),
    script: 'npm run example:vonage',
    cleanup: example.close,
  };
  const server = listenOrExit(example.app, options, (port) => {
    const url = `http://127.0.0.1:${port}/signup`;
    const post = (phone: string, ip: string) =>
      `curl -s -X POST ${url} -H 'content-type: application/json' -H 'x-forwarded-for: ${ip}' -d '{"phone":"${phone}"}'`;
    console.log(`ipmatch Vonage example on ${url} (Ctrl-C to stop)\n`);
    console.log(
      `# GB phone from a GB IP: 201, with Vonage's carrier data\n${post('+447400123456', '81.2.69.160')}\n`,
    );
    console.log(`# GB phone from a KR IP: 403\n${post('+447400123456', '211.234.0.1')}`);
  });
  const stop = () => {
    server.close();
    server.closeAllConnections();
    example.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
