/** A slot table's times: whole ms as Uint32 offsets from a base, and every held time moved when the base moves. */

/** The largest offset. */
export const MAX_OFFSET = 4294967295;
/** Where a new base goes: this far before now (the clock may step back as far as forward). */
export const HALF = 2147483648;

/**
 * Shifts every time a slot table holds by `shift` ms, clamped to the offsets' range: each head's newest time (a
 * free slot's stale one too: harmless), then its older members' times. A head is four words (key, key and count
 * as `count & countMask`, newest time, newest member); a slot has `stride` words of (member, time) pairs, of
 * which it holds `count - 1`.
 */
export function shiftTimes(
  heads: Uint32Array,
  pairs: Uint32Array,
  stride: number,
  countMask: number,
  shift: number,
): void {
  const move = (x: number) => Math.min(MAX_OFFSET, Math.max(0, x + shift));
  for (let at = 0; at < heads.length; at += 4) {
    heads[at + 2] = move(heads[at + 2]!);
    const first = (at >> 2) * stride;
    for (let i = first + 1; i < first + 2 * ((heads[at + 1]! & countMask) - 1); i += 2)
      pairs[i] = move(pairs[i]!);
  }
}
