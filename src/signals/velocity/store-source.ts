/** Velocity counted in a shared Store (`RedisStore`): one `distinct` call per check, within its budget, fail-open. */
import { bounded, outageTracker } from '../../core/lookup/store-call.js';
import type { SignalContext } from '../../core/signal-source.js';
import type { Signal } from '../../core/signals.js';
import type { DistinctOp, Store } from '../../core/store.js';
import type { Logger } from '../../core/types.js';
import type { VelocitySettings } from '../../core/velocity-options.js';
import { CONVERSION } from './conversion.js';
import type { Counting } from './counting.js';
import { blockEnd, ipUnit, storeHash, subnetUnit } from './keys.js';
import { capFor, NO_SIGNALS, UNAVAILABLE, verdictFor } from './verdict.js';

/**
 * Counts in `store.distinct`, every counter of a check in one call. A call that fails, answers something other
 * than one count per counter, or passes `timeoutMs` gives `velocity_unavailable` and no counts; the logger warns
 * at the first failure of each outage (IPMATCH_VELOCITY_UNAVAILABLE), not at every check: an outage ends only
 * after 30 s (`OUTAGE_QUIET_MS`, on `now`) without a failure, so a cluster with one master down, whose checks
 * fail and succeed in turn, warns once.
 */
export function storeCounting(
  s: VelocitySettings,
  store: Store,
  counts: (ctx: SignalContext) => boolean,
  logger: Logger,
  now: () => number = Date.now,
): Counting {
  const digits = s.prefix ? s.prefix.digits : 3;
  const outage = outageTracker(now);
  const signalsOf = verdictFor(s);

  /** The store's answer for `ops`, or undefined (reported once per outage) when there is none to trust. */
  async function distinct(ops: DistinctOp[]): Promise<number[] | undefined> {
    const outcome = await bounded(() => store.distinct!(ops), s.timeoutMs);
    const answer = 'value' in outcome ? outcome.value : undefined;
    if (Array.isArray(answer) && answer.length === ops.length && answer.every(isCount)) return answer;
    if (outage.failed()) {
      const error =
        'error' in outcome ? outcome.error : new Error('distinct() answered no count per counter');
      logger.warn(
        'ipmatch: the velocity store failed or was too slow; velocity signals are skipped until it answers',
        {
          code: 'IPMATCH_VELOCITY_UNAVAILABLE',
          error: error instanceof Error ? error.message.slice(0, 200) : typeof error,
        },
      );
    }
    return undefined;
  }

  async function count(ctx: SignalContext, otp: boolean): Promise<readonly Signal[]> {
    const number = ctx.phone.number;
    if (number === null) return NO_SIGNALS;
    const address = counts(ctx) ? ctx.ip.address : null;
    // On Node every hash is at hand (node:crypto); with Web Crypto they are promises, settled all at once below.
    const member = storeHash('number', number);
    const pending: Pending[] = [];
    /** Adds an op and answers its index. */
    const op = (key: Hash, m: Hash, windowMs: number, cap: number) =>
      pending.push({ key, member: m, windowMs, cap }) - 1;
    const end = blockEnd(number, digits);
    const country = ctx.ip.country;
    const ip =
      s.ip && address !== null
        ? op(storeHash('ip', ipUnit(address)), member, s.ip.windowMs, capFor(s.ip.max))
        : -1;
    const subnet =
      s.subnet && address !== null
        ? op(storeHash('subnet', subnetUnit(address)), member, s.subnet.windowMs, capFor(s.subnet.max))
        : -1;
    // An IP of unknown country adds none ('' only counts), but the number's count still shows.
    const seen = country === null ? '' : storeHash('country', country);
    const phone = s.phone
      ? op(storeHash('phone', number), seen, s.phone.windowMs, capFor(s.phone.maxCountries))
      : -1;
    const prefix =
      s.prefix && end > 0
        ? op(storeHash('block', number, end), member, s.prefix.windowMs, capFor(s.prefix.max))
        : -1;
    const conversion = otp && end > 0;
    const { windowMs, cap } = CONVERSION;
    const sent = conversion ? op(storeHash('sent', number, end), member, windowMs, cap) : -1;
    const verified = conversion ? op(storeHash('verified', number, end), '', windowMs, cap) : -1;
    if (pending.length === 0) return NO_SIGNALS;
    const ops = settled(pending);
    const got = await distinct(Array.isArray(ops) ? ops : await ops);
    if (got === undefined) return UNAVAILABLE;
    const at = (i: number) => (i < 0 ? 0 : got[i]!);
    const found = { ip: at(ip), subnet: at(subnet), phoneCountries: at(phone), prefix: at(prefix) };
    ctx.velocity = found;
    return signalsOf(
      found.ip,
      found.subnet,
      found.phoneCountries,
      found.prefix,
      sent < 0 ? -1 : at(sent),
      at(verified),
    );
  }

  return {
    count: (ctx, otp) => count(ctx, otp).catch(() => UNAVAILABLE),
    async verified(number) {
      try {
        const end = blockEnd(number, digits);
        if (end < 0) return;
        const key = await storeHash('verified', number, end);
        await distinct([
          {
            key,
            member: await storeHash('number', number),
            windowMs: CONVERSION.windowMs,
            cap: CONVERSION.cap,
          },
        ]);
      } catch {
        // verified() never rejects; distinct() already reported a failing store.
      }
    },
  };
}

/** A hash as storeHash gives it: text on Node, a promise with Web Crypto. */
type Hash = string | Promise<string>;
/** An op whose key or member may still be a promise. */
type Pending = { key: Hash; member: Hash; windowMs: number; cap: number };

/** The ops with every hash settled: the same array, no await, when each is already text (node:crypto). */
function settled(pending: Pending[]): DistinctOp[] | Promise<DistinctOp[]> {
  if (pending.every((p) => typeof p.key === 'string' && typeof p.member === 'string'))
    return pending as DistinctOp[];
  return Promise.all(
    pending.map(async (p) => ({
      key: await p.key,
      member: await p.member,
      windowMs: p.windowMs,
      cap: p.cap,
    })),
  );
}

const isCount = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;
