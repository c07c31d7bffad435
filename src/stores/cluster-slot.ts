/** The Redis Cluster hash slot of a key: CRC16 (XMODEM) of the key, or of its {hash tag}, modulo 16384. */

/** CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), one table entry per byte value. */
const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}

const utf8 = new TextEncoder();
const OPEN = 0x7b; // '{'
const CLOSE = 0x7d; // '}'

/**
 * The slot Redis Cluster keeps `key` in, as its CLUSTER KEYSLOT computes it: only the part between the first
 * `{` and the next `}` is hashed when that part is not empty, so that `{user1}.a` and `{user1}.b` share a slot.
 */
export function clusterSlot(key: string): number {
  const bytes = utf8.encode(key);
  const open = bytes.indexOf(OPEN);
  if (open !== -1) {
    const close = bytes.indexOf(CLOSE, open + 1);
    if (close > open + 1) return crc16(bytes, open + 1, close) & 16383;
  }
  return crc16(bytes, 0, bytes.length) & 16383;
}
