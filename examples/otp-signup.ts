/**
 * An OTP signup route against SMS pumping, live: a real Express server on 127.0.0.1, then a pumping burst (one IP
 * cycling numbers, then rotating IPs inside one number block) and a premium-rate number, printing after how many
 * requests each signal fired. Run it with `npm run example:otp`.
 */
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import express from 'express';
import { createIpMatch, type IpMatchOptions } from 'ipmatch';
import { ipMatch } from 'ipmatch/express';

export function createApp(options: IpMatchOptions = {}) {
  const core = createIpMatch(options);
  const app = express();
  // Behind a reverse proxy on this host: trust X-Forwarded-For from loopback only, never from anyone.
  app.set('trust proxy', 'loopback');
  app.use(express.json());

  // sendsOtp blocks premium-rate, shared-cost and SMS-incapable numbers and bursts in one number block; this
  // route also blocks one IP (or one /24) cycling numbers, which the defaults only flag.
  const guard = ipMatch(core, {
    sendsOtp: true,
    policy: { ip_velocity: 'block', subnet_velocity: 'block' },
  });
  app.post('/otp', guard, (req, res) => {
    // Send the code here (Vonage Verify, Twilio…): only requests that passed the check reach this line.
    res.status(202).json({ sent: true, signals: req.ipMatch?.signals, velocity: req.ipMatch?.velocity });
  });
  app.post('/otp/verify', async (req, res) => {
    // After the code checked out: counts one conversion for the number's block (low_conversion_prefix).
    await core.verified(String(req.body?.phone ?? ''));
    res.json({ verified: true });
  });
  return { app, core };
}

/** One request's outcome, as the demo prints it. */
interface Sent {
  status: number;
  error?: string;
  signals?: string[];
}

/** Runs the burst against a live server; answers after how many requests each signal first fired. */
export async function runOtpDemo(print: (line: string) => void = console.log) {
  const { app, core } = createApp({ logger: { warn() {}, error() {} } });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/otp`;
  const send = async (phone: string, ip: string): Promise<Sent> => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify({ phone }),
    });
    return { status: res.status, ...((await res.json()) as object) };
  };
  const firedAt: Record<string, number> = {};
  const note = (n: number, sent: Sent) => {
    for (const s of [sent.error, ...(sent.signals ?? [])]) if (s && firedAt[s] === undefined) firedAt[s] = n;
  };
  try {
    print('1. One IP (81.2.69.160) cycling numbers from different blocks:');
    for (let i = 1; i <= 6; i++) {
      const sent = await send(`+4474${String(10 + i)}123456`, '81.2.69.160');
      note(i, sent);
      print(`   request ${i}: ${sent.status} ${sent.error ?? 'sent'}`);
    }
    print('2. Rotating IPs (81.2.69.x, 86.1.2.3 …) inside one number block (+447700123…):');
    const ips = ['81.2.69.21', '86.1.2.3', '81.2.70.9', '86.4.5.6', '81.2.71.30', '86.7.8.9'];
    for (let i = 1; i <= 6; i++) {
      const sent = await send(`+447700123${String(100 + i)}`, ips[i - 1]!);
      note(i, sent);
      print(`   request ${i}: ${sent.status} ${sent.error ?? 'sent'}`);
    }
    print('3. A premium-rate number on the OTP route:');
    const premium = await send('+449098790000', '86.10.11.12');
    note(1, premium);
    print(`   request 1: ${premium.status} ${premium.error ?? 'sent'}`);
    print(`\nFired at request: ${JSON.stringify(firedAt)}`);
    return firedAt;
  } finally {
    server.close();
    await core.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runOtpDemo();
}
