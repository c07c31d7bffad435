/** The `ip_missing` signal: a route that reads the client IP from a header got no address from it. */
import type { SignalSource } from '../../core/signal-source.js';

const MISSING = Object.freeze(['ip_missing'] as const);
const NONE = Object.freeze([] as const);

const ipMissing: SignalSource = {
  name: 'client-ip',
  signals: MISSING,
  evaluate: ({ ip }) => (ip.address === null ? MISSING : NONE),
};

/**
 * Runs only on routes whose `clientIp` is `'request-ip'` or a header name: there, no address is the platform or
 * proxy failing to say who the client is, not a private network (`ip_not_public` alone).
 */
export const clientIpSignals: SignalSource = {
  name: 'client-ip',
  signals: MISSING,
  forRoute: (route) => (route.readsIpHeader ? ipMissing : undefined),
  evaluate: () => NONE,
};
