/** What `sendsOtp: true` raises: on a route that sends a code by SMS or voice, these signals cost money. */
import type { PolicyMap } from './types.js';

/**
 * The actions a `sendsOtp` route starts from, over the defaults. The core's policy map, then the route's, still
 * win over them: defaults < this table < the core's map < the route's map. A new signal that matters to an OTP
 * route (velocity's `prefix_burst`) is one entry here.
 */
export const SENDS_OTP_RAISE: Readonly<PolicyMap> = Object.freeze({
  premium_rate_number: 'block',
  shared_cost_number: 'block',
  sms_incapable_number: 'block',
  voip_number: 'flag',
  // Many numbers of one block in an hour: the operator pays for every code the pump sends.
  prefix_burst: 'block',
} satisfies PolicyMap);
