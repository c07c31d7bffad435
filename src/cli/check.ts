/** `ipmatch check`: one decision for a phone and an IP, as a route with the default options would make it. */
import { defaultAnswer } from '../adapters/shared/answers.js';
import { IpMatchConfigError } from '../core/errors.js';
import { internals } from '../core/internal.js';
import { isSupportedRegion } from '../core/phone.js';
import type { IpMatchProvider } from '../core/provider.js';
import type { IpMatch, Logger } from '../core/types.js';
import { createIpMatch } from '../create-ip-match.js';
import { localProvider } from '../providers/local.js';
import type { Command } from './args.js';
import { formatDecision } from './format.js';
import { identityInsights } from './identity-insights.js';
import type { CliIo } from './io.js';
import { UsageError } from './usage-error.js';

/** Digits and separators without a leading '+': a number in national format, like "07400 123456". */
const NATIONAL = /^[\d\s().-]*\d[\d\s().-]*$/;

type Check = Extract<Command, { kind: 'check' }>;

/** Messages only: the metadata objects are for log pipelines, and stdout must stay the result alone. */
function stderrLogger(io: CliIo): Logger {
  return { warn: (msg) => io.stderr(`${msg}\n`), error: (msg) => io.stderr(`${msg}\n`) };
}

function region(value: string): string {
  const upper = value.toUpperCase();
  if (/^[A-Z]{2}$/.test(upper) && isSupportedRegion(upper)) return upper;
  const uk = upper === 'UK' ? ' (the United Kingdom is GB)' : '';
  throw new UsageError(`--country: expected a two-letter region such as GB or US, got "${value}"${uk}`);
}

async function vonage(env: CliIo['env'], geoip: { database?: string }): Promise<IpMatchProvider> {
  const apiKey = env.VONAGE_API_KEY;
  const apiSecret = env.VONAGE_API_SECRET;
  if (!apiKey || !apiSecret) {
    const missing = [apiKey ? undefined : 'VONAGE_API_KEY', apiSecret ? undefined : 'VONAGE_API_SECRET'];
    throw new UsageError(
      `--vonage needs VONAGE_API_KEY and VONAGE_API_SECRET in the environment (missing: ${missing.filter(Boolean).join(', ')})`,
    );
  }
  // Loaded only here: the offline path should not pay for undici's start-up.
  const { vonageProvider } = await import('../providers/vonage.js');
  const baseUrl = env.VONAGE_BASE_URL;
  try {
    return vonageProvider({
      apiKey,
      apiSecret,
      ...(baseUrl ? { baseUrl } : {}),
      ...(geoip.database === undefined ? {} : { geoip }),
    });
  } catch (error) {
    // Name what the user set, not the option it became.
    if (!(error instanceof IpMatchConfigError)) throw error;
    const envName = (p: string) => p.replace(/^(apiKey|apiSecret|baseUrl):/, (_, k: string) => `${ENV[k]}:`);
    throw new UsageError(error.problems.map(envName).join('; '));
  }
}

const ENV: Record<string, string> = {
  apiKey: 'VONAGE_API_KEY',
  apiSecret: 'VONAGE_API_SECRET',
  baseUrl: 'VONAGE_BASE_URL',
};

/**
 * `ipmatch check`: one decision on stdout, exit 0 whatever its action, with `answer`: what a route with the
 * default options answers (`{ status, body }`: 400 for an invalid phone, 403 for a block), or null.
 */
export async function runCheck(command: Check, io: CliIo): Promise<number> {
  const country = command.country === undefined ? undefined : region(command.country);
  const geoip = command.database === undefined ? {} : { database: command.database };
  const provider = command.vonage
    ? await vonage(io.env, geoip)
    : command.identityInsights
      ? await identityInsights(io.env, geoip)
      : localProvider(geoip);
  let core: IpMatch;
  try {
    core = createIpMatch({ provider, logger: stderrLogger(io) });
  } catch (error) {
    await provider.close?.();
    throw error;
  }
  try {
    const input = { phone: command.phone, ip: command.ip };
    // The route's own check, so that the answer names what caused a block, as a route's 403 does.
    const inner = internals(core)!;
    const route = inner.compileRoute(
      command.sendsOtp ? { signals: { readsIpHeader: false, sendsOtp: true } } : {},
    );
    const checked = await inner.check(country ? { ...input, country } : input, route);
    const { decision } = checked;
    const answer = defaultAnswer(checked, command.phone);
    io.stdout(
      command.json ? `${JSON.stringify({ ...decision, answer })}\n` : formatDecision(decision, input, answer),
    );
    if (decision.reason === 'phone_invalid' && !country && NATIONAL.test(command.phone)) {
      io.stderr('ipmatch: hint: a number without its +country code needs --country, e.g. --country GB\n');
    }
    return 0;
  } finally {
    // Releases Vonage's keep-alive sockets, so that the process exits by itself.
    await core.close();
  }
}
