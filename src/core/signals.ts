/** The signal table: every signal's policy key, default action and 403 message, one line each. */
import type { Action } from './action.js';

/**
 * Every signal a decision can carry: a fact beside the match level that a policy can act on. Each has its
 * default action and the message of the 403 it causes when it decides a block. A new signal is one line here,
 * and a source in its family's folder (src/signals/<family>/) that reports it: see core/signal-source.ts.
 */
export const SIGNALS = {
  sim_swapped: {
    action: 'flag',
    message: "The phone number's SIM card was changed recently, so it cannot confirm this request right now.",
  },
  // A route that reads the client IP from a header ('request-ip' or a header name) got none.
  ip_missing: {
    action: 'flag',
    message: 'Your network address could not be determined, so this request cannot be checked.',
  },
  // The number's type (libphonenumber-js max metadata): see src/signals/number-type/.
  premium_rate_number: {
    action: 'flag',
    message: 'Premium-rate numbers cannot be used here. Please use a mobile number.',
  },
  shared_cost_number: {
    action: 'flag',
    message: 'Shared-cost numbers cannot be used here. Please use a mobile number.',
  },
  // Toll free, pager, UAN or voicemail: a number that cannot receive a text message.
  sms_incapable_number: {
    action: 'allow',
    message: 'This number cannot receive text messages. Please use a mobile number.',
  },
  voip_number: {
    action: 'allow',
    message: 'Internet (VoIP) numbers cannot be used here. Please use a mobile number.',
  },
  // The number's country is outside the route's phoneCountries.allow, or in its deny: src/signals/country-list/.
  country_not_allowed: {
    action: 'block',
    message: "Phone numbers from this number's country cannot be used here.",
  },
  // What kind of IP it is, from offline lists (src/signals/ip-nature/): see docs/ip-signals.md.
  hosting: {
    action: 'flag',
    message:
      'Requests from cloud or hosting networks cannot be accepted here. Please connect from your own network.',
  },
  tor_exit: {
    action: 'flag',
    message: 'Requests through the Tor network cannot be accepted here. Please connect without Tor.',
  },
  vpn: {
    action: 'flag',
    message: 'Requests through a VPN cannot be accepted here. Please turn off your VPN and try again.',
  },
  // iCloud Private Relay users are ordinary people: information, not suspicion.
  private_relay: {
    action: 'allow',
    message:
      'Requests through iCloud Private Relay cannot be accepted here. Please turn it off and try again.',
  },
  // Velocity: distinct counts over sliding windows (src/signals/velocity/), see docs/velocity-and-sms-pumping.md.
  // Distinct numbers from one IP (/32, IPv6 /64): one client cycling numbers.
  ip_velocity: {
    action: 'flag',
    message: 'Too many different phone numbers were tried from your network address. Please try again later.',
  },
  // Distinct numbers from one IPv4 /24 or IPv6 /48.
  subnet_velocity: {
    action: 'flag',
    message: 'Too many different phone numbers were tried from your network. Please try again later.',
  },
  // One number seen from more IP countries than a person travels through in a day.
  phone_velocity: {
    action: 'flag',
    message: 'This phone number was used from too many countries recently. Please try again later.',
  },
  // Distinct numbers in one number block (E.164 without its last digits): the shape of SMS pumping.
  prefix_burst: {
    action: 'flag',
    message: 'Too many codes were requested for numbers like this one. Please try again later.',
  },
  // A block that was sent many codes and entered few of them (core.verified).
  low_conversion_prefix: {
    action: 'flag',
    message: 'Codes cannot be sent to numbers like this one right now. Please try another number.',
  },
  // The velocity store failed or was too slow for this check: the counts were skipped (fail-open).
  velocity_unavailable: {
    action: 'allow',
    message: 'This request cannot be checked right now. Please try again in a moment.',
  },
} as const satisfies Record<string, { action: Action; message: string }>;

/** A signal's name: the key of its policy entry, and the 403 body's `error` when it decided a block. */
export type Signal = keyof typeof SIGNALS;

export const SIGNAL_NAMES = Object.keys(SIGNALS) as Signal[];

/** Each signal's default action, as policy map entries. */
export const SIGNAL_DEFAULTS = Object.fromEntries(SIGNAL_NAMES.map((s) => [s, SIGNALS[s].action])) as {
  [S in Signal]: (typeof SIGNALS)[S]['action'];
};
