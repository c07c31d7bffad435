/** What a nature match means on a decision: its signals, relay first, and never `hosting` beside `private_relay`. */
import type { Signal } from '../../core/signals.js';
import type { NatureKind, NatureMatch } from '../../geodata/nature/index.js';

/** The signal each kind gives, in precedence order (NATURE_KINDS'). */
export const KIND_SIGNAL: Readonly<Record<NatureKind, Signal>> = {
  relay: 'private_relay',
  tor: 'tor_exit',
  vpn: 'vpn',
  hosting: 'hosting',
};

/** Every signal the family can give, in the order they appear on a decision. */
export const NATURE_SIGNALS: readonly Signal[] = Object.freeze(Object.values(KIND_SIGNAL));

const memo = new WeakMap<NatureMatch, readonly Signal[]>();

/**
 * The signals of one match, computed once per match object (a table shares one frozen match per label), so
 * that a check allocates nothing. A relay egress sits in CDN space that hosting lists hold too: the person
 * behind it is an ordinary user, so `hosting` is dropped there.
 */
export function signalsOf(match: NatureMatch): readonly Signal[] {
  let signals = memo.get(match);
  if (signals === undefined) {
    const relay = match.kinds.includes('relay');
    signals = Object.freeze(
      match.kinds.filter((k) => !(relay && k === 'hosting')).map((k) => KIND_SIGNAL[k]),
    );
    memo.set(match, signals);
  }
  return signals;
}
