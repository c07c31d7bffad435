/** `ipmatch check --identity-insights`: an identityInsightsProvider built from the environment. */
import { readFileSync } from 'node:fs';
import { IpMatchConfigError } from '../core/errors.js';
import type { IpMatchProvider } from '../core/provider.js';
import type { CliIo } from './io.js';
import { UsageError } from './usage-error.js';

/** The environment variable behind each option, so that an error names what the user set. */
const ENV: Record<string, string> = {
  applicationId: 'VONAGE_APPLICATION_ID',
  privateKey: 'VONAGE_PRIVATE_KEY_PATH or VONAGE_PRIVATE_KEY',
  baseUrl: 'VONAGE_BASE_URL',
};

/**
 * The PEM from VONAGE_PRIVATE_KEY_PATH (a file, as Vonage's dashboard downloads it) or VONAGE_PRIVATE_KEY (the
 * text, where a `\n` written into a one-line variable stands for a line break).
 */
function privateKey(env: CliIo['env']): string {
  const path = env.VONAGE_PRIVATE_KEY_PATH;
  if (path) {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'unreadable';
      throw new UsageError(`VONAGE_PRIVATE_KEY_PATH: cannot read "${path}" (${code})`);
    }
  }
  return (env.VONAGE_PRIVATE_KEY ?? '').replaceAll('\\n', '\n');
}

/** `--identity-insights`: an identityInsightsProvider from the environment. */
export async function identityInsights(
  env: CliIo['env'],
  geoip: { database?: string },
): Promise<IpMatchProvider> {
  const applicationId = env.VONAGE_APPLICATION_ID;
  const hasKey = Boolean(env.VONAGE_PRIVATE_KEY_PATH || env.VONAGE_PRIVATE_KEY);
  if (!applicationId || !hasKey) {
    const missing = [
      applicationId ? undefined : 'VONAGE_APPLICATION_ID',
      hasKey ? undefined : 'VONAGE_PRIVATE_KEY_PATH (or VONAGE_PRIVATE_KEY)',
    ];
    throw new UsageError(
      `--identity-insights needs VONAGE_APPLICATION_ID and VONAGE_PRIVATE_KEY_PATH (or VONAGE_PRIVATE_KEY) in the environment (missing: ${missing.filter(Boolean).join(', ')})`,
    );
  }
  const { identityInsightsProvider } = await import('../providers/identity-insights.js');
  const baseUrl = env.VONAGE_BASE_URL;
  try {
    return identityInsightsProvider({
      applicationId,
      privateKey: privateKey(env),
      ...(baseUrl ? { baseUrl } : {}),
      ...(geoip.database === undefined ? {} : { geoip }),
    });
  } catch (error) {
    if (!(error instanceof IpMatchConfigError)) throw error;
    const named = error.problems.map((p) =>
      p.replace(/^(\w+):/, (whole, k: string) => (ENV[k] ? `${ENV[k]}:` : whole)),
    );
    throw new UsageError(named.join('; '));
  }
}
