/** Reads an IPv6 address into four 32-bit words without allocating: the IP-nature table's search key. */

/** 0–15 for a hex digit's char code, -1 otherwise. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const groups = new Uint16Array(8);

/**
 * Fills `out` with the address's 128 bits, most significant word first, and returns true; false for anything
 * that is not plain hex-group IPv6 (an embedded dotted quad, a zone id, junk), which the caller reads the slow way.
 */
export function readV6Words(s: string, out: Uint32Array): boolean {
  const n = s.length;
  if (n < 2 || n > 39) return false;
  let count = 0; // groups read
  let gap = -1; // where `::` stands, in groups
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (i === n) return fill(out, 0, 0);
  }
  while (i < n) {
    let v = 0;
    let digits = 0;
    for (; i < n && digits < 5; i++, digits++) {
      const h = hexValue(s.charCodeAt(i));
      if (h < 0) break;
      v = v * 16 + h;
    }
    if (digits === 0 || digits > 4 || count === 8) return false;
    groups[count++] = v;
    if (i === n) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < n && s.charCodeAt(i) === 58) {
      if (gap !== -1) return false;
      gap = count;
      i++;
      if (i === n) break;
    } else if (i === n) return false;
  }
  if (gap === -1 ? count !== 8 : count > 7) return false;
  return fill(out, count, gap);
}

/** Spreads the `count` groups read around the gap (none when gap is -1) into the four words. */
function fill(out: Uint32Array, count: number, gap: number): boolean {
  const zeros = gap === -1 ? 0 : 8 - count;
  for (let w = 0; w < 4; w++) {
    let word = 0;
    for (let half = 0; half < 2; half++) {
      const g = w * 2 + half; // the group index in the full address
      let v = 0;
      if (gap === -1 || g < gap) v = groups[g]!;
      else if (g >= gap + zeros) v = groups[g - zeros]!;
      word = word * 65536 + v;
    }
    out[w] = word;
  }
  return true;
}
