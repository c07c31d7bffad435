/** The `sim_swapped` signal: the provider (Identity Insights) found the SIM changed within the period it was asked. */
import type { SignalSource } from '../../core/signal-source.js';

const SWAPPED = Object.freeze(['sim_swapped'] as const);
const NONE = Object.freeze([] as const);

/** Reads `phone.simSwap`, which Vonage computes over the `period` that was sent; a cached lookup keeps the fact. */
export const simSwapSignals: SignalSource = {
  name: 'sim-swap',
  signals: SWAPPED,
  // Only a provider's lookup (Identity Insights) knows of a SIM swap: the offline core leaves this source out.
  needs: Object.freeze({ lookup: true }),
  evaluate: ({ phone }) => (phone.simSwap?.swapped === true ? SWAPPED : NONE),
};
