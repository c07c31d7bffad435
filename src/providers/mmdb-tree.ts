/** The shape of an MMDB search tree, as its metadata describes it. */
export interface TreeShape {
  nodeByteSize: number;
  recordSize: number;
}

/**
 * One record of a node in an MMDB search tree: the left (0) or right (1) pointer, in any of the format's
 * record sizes (24, 28 or 32 bits). mmdb-lib does this internally but does not export it.
 */
export function readRecord(db: Buffer, tree: TreeShape, node: number, right: 0 | 1 | number): number {
  const o = node * tree.nodeByteSize;
  if (tree.recordSize === 24) return db.readUIntBE(o + right * 3, 3);
  if (tree.recordSize === 32) return db.readUInt32BE(o + right * 4);
  const nibble = right ? (db[o + 3]! & 0x0f) << 24 : (db[o + 3]! & 0xf0) << 20;
  return nibble | db.readUIntBE(o + right * 4, 3);
}
