/** The signal families every core runs by default, in the order their signals appear on a decision. */
import type { SignalSource } from '../core/signal-source.js';
import { clientIpSignals } from './client-ip/index.js';
import { countryListSignals } from './country-list/index.js';
import { numberTypeSignals } from './number-type/index.js';
import { simSwapSignals } from './sim-swap/index.js';

/** The IP-nature family is built per core from its provider's `ipNature` setting: see create-ip-match.ts. */
export { ipNatureFor } from './ip-nature/index.js';
/** The velocity family is built per core from its `velocity` option (its counters are the core's own). */
export { velocityFor } from './velocity/index.js';

/** Adding a family is its folder here, its rows in core/signals.ts' SIGNALS, and one line in this list. */
export const DEFAULT_SIGNALS: readonly SignalSource[] = Object.freeze([
  simSwapSignals,
  clientIpSignals,
  numberTypeSignals,
  countryListSignals,
]);
