/**
 * The velocity family: `ip_velocity`, `subnet_velocity`, `phone_velocity`, `prefix_burst`, `low_conversion_prefix`
 * and `velocity_unavailable`, counted in memory or in a Store with `distinct`, and `decision.velocity`.
 */
import type { CoreSetup } from '../../core/ipmatch.js';
import type { SignalContext, SignalSource } from '../../core/signal-source.js';
import type { Logger } from '../../core/types.js';
import { velocitySettings } from '../../core/velocity-options.js';
import { allowMatcher } from './allow.js';
import type { Counting } from './counting.js';
import { memoryCounting } from './memory-source.js';
import { storeCounting } from './store-source.js';
import { VELOCITY_SIGNALS } from './verdict.js';

export { VELOCITY_DEFAULTS, type VelocityOptions } from '../../core/velocity-options.js';

/**
 * The family for a core, from its `velocity` option: none when it is `false`. Every checked request with a
 * plausible phone number counts, blocked ones included (the source runs before the policy). A route with
 * `sendsOtp` (or a core with it) also counts its codes sent, for `low_conversion_prefix`.
 */
export function velocityFor(logger: Logger, core: CoreSetup): SignalSource[] {
  const { options } = core;
  if (options.velocity === false) return [];
  const cacheStore = options.cache === false ? undefined : options.cache?.store;
  const s = velocitySettings(options.velocity, cacheStore);
  const allowed = allowMatcher(s.allow);
  // Per IP and per subnet only a public IP outside `allow` counts; the number and its block always do.
  const counts = (ctx: SignalContext) =>
    ctx.ipPublic === true && ctx.ip.address !== null && !allowed(ctx.ip.address);
  let counting: Counting;
  if (s.store) {
    counting = storeCounting(s, s.store, counts, logger, core.now);
  } else {
    counting = memoryCounting(s, counts, core.now);
    if (nodeEnv() === 'production') {
      core.warnOnce(
        'IPMATCH_VELOCITY_IN_MEMORY',
        'ipmatch: velocity counts in memory, per process: behind a load balancer each server sees only its share. ' +
          'Pass velocity: { store: new RedisStore({ client }) } (or cache.store) to count across the fleet',
      );
    }
  }
  const forOtp = source(counting, true);
  const plain = source(counting, false);
  plain.forRoute = (route) => (route.sendsOtp === true ? forOtp : plain);
  return [plain];
}

function source(counting: Counting, otp: boolean): SignalSource {
  return {
    name: 'velocity',
    signals: VELOCITY_SIGNALS,
    evaluate: (ctx) => counting.count(ctx, otp),
    verified: (number) => counting.verified(number),
    async close() {
      counting.clear?.();
    },
  };
}

const nodeEnv = () => (globalThis as { process?: { env?: { NODE_ENV?: string } } }).process?.env?.NODE_ENV;
