/** `createIpMatch`: the core with what the entry points supply by default, the offline provider and the signals. */
import { type CoreDefaults, type CoreSetup, createCore } from './core/ipmatch.js';
import type { IpMatchOptions } from './core/options.js';
import type { IpMatchProvider } from './core/provider.js';
import type { IpMatch, Logger } from './core/types.js';
import { localProvider } from './providers/local.js';
import { DEFAULT_SIGNALS, ipNatureFor, velocityFor } from './signals/index.js';

/**
 * The IP-nature family reads the provider's `ipNature` setting (localProvider's), else the bundled data; the
 * velocity family, the core's `velocity` option. Tests build cores over these with their own clock (`now`).
 */
export const CORE_DEFAULTS: CoreDefaults = {
  provider: () => localProvider(),
  signals: (provider: IpMatchProvider, logger: Logger, core: CoreSetup) => [
    ...DEFAULT_SIGNALS,
    ...ipNatureFor(provider, logger),
    ...velocityFor(logger, core),
  ],
};

/**
 * Builds the framework-free core. Options are validated here, once; `check()` never throws or rejects.
 *
 * @example
 * const ipm = createIpMatch({ policy: { mismatch: 'block' } });
 * const decision = await ipm.check({ phone: '+447400123456', ip: '81.2.69.160' });
 */
export function createIpMatch(options: IpMatchOptions = {}): IpMatch {
  return createCore(options, CORE_DEFAULTS);
}
