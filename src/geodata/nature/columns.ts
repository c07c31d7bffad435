/** The IP-nature file's columns as typed arrays: views over the file's own bytes where it can, one copy where not. */

/** Typed arrays use the host's byte order; the file is little-endian, as nearly every host is. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * `count` u32 words at byte `o` of `bytes`. A view when `shared` (the bytes are the reader's own, read from a
 * file, so nothing else can change them after validation) and aligned; otherwise one bulk copy, so that a
 * caller's buffer changed later cannot change a table already validated.
 */
export function u32Column(bytes: Uint8Array, o: number, count: number, shared: boolean): Uint32Array {
  const at = bytes.byteOffset + o;
  if (!LITTLE_ENDIAN) {
    const view = new DataView(bytes.buffer, at, count * 4);
    const out = new Uint32Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, true);
    return out;
  }
  if (shared && at % 4 === 0) return new Uint32Array(bytes.buffer, at, count);
  const out = new Uint32Array(count);
  new Uint8Array(out.buffer).set(bytes.subarray(o, o + count * 4));
  return out;
}

/** `count` u16 labels at byte `o` of `bytes`: a view or a copy, as `u32Column`. */
export function u16Column(bytes: Uint8Array, o: number, count: number, shared: boolean): Uint16Array {
  const at = bytes.byteOffset + o;
  if (!LITTLE_ENDIAN) {
    const view = new DataView(bytes.buffer, at, count * 2);
    const out = new Uint16Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getUint16(i * 2, true);
    return out;
  }
  if (shared && at % 2 === 0) return new Uint16Array(bytes.buffer, at, count);
  const out = new Uint16Array(count);
  new Uint8Array(out.buffer).set(bytes.subarray(o, o + count * 2));
  return out;
}
