/** The `country_not_allowed` signal: a number outside the route's `phoneCountries.allow`, or inside its `deny`. */
import type { PhoneCountries, SignalSource } from '../../core/signal-source.js';
import type { Signal } from '../../core/signals.js';

const NOT_ALLOWED: readonly Signal[] = Object.freeze(['country_not_allowed'] as const);
const NONE: readonly Signal[] = Object.freeze([]);

/**
 * The source for one route's lists, compiled into sets once. A number of unknown country (non-geographic, such as
 * +882) is not in `allow`, so an allow list refuses it; a deny list cannot name it, so it passes. An input that is
 * no phone number at all gives no signal: it is already `phone_invalid`.
 */
function forLists(lists: PhoneCountries): SignalSource {
  const allow = lists.allow ? new Set(lists.allow) : undefined;
  const deny = lists.deny ? new Set(lists.deny) : undefined;
  return {
    name: 'country-list',
    signals: NOT_ALLOWED,
    evaluate({ phone }) {
      if (phone.number === null) return NONE;
      const country = phone.country;
      if (allow && (country === null || !allow.has(country))) return NOT_ALLOWED;
      if (deny && country !== null && deny.has(country)) return NOT_ALLOWED;
      return NONE;
    },
  };
}

/** Runs only on routes (or cores) with `phoneCountries`; a route's lists replace the core's. No list is built in. */
export const countryListSignals: SignalSource = {
  name: 'country-list',
  signals: NOT_ALLOWED,
  forRoute: (route) => (route.phoneCountries ? forLists(route.phoneCountries) : undefined),
  evaluate: () => NONE,
};
