// Walks an MMDB search tree by hand: one record, where IPv4 starts, and a fast IPv4 finder.

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

/** What walking the tree needs from the metadata. */
export interface TreeWalk extends TreeShape {
  nodeCount: number;
  ipVersion: number;
}

/**
 * Where IPv4 addresses start, as mmdb-lib finds it: the root of an IPv4 tree; in an IPv6 tree, 96 left steps
 * down (::/96), or wherever those steps leave the tree (an empty record, or a record all IPv4 shares).
 */
export function ipv4StartNode(db: Buffer, tree: TreeWalk): number {
  if (tree.ipVersion === 4) return 0;
  let node = 0;
  for (let i = 0; i < 96 && node < tree.nodeCount; i++) node = readRecord(db, tree, node, 0);
  return node;
}

/**
 * A finder of IPv4 addresses given as unsigned 32-bit numbers: returns the record value the address ends on
 * (a data pointer, above nodeCount), or 0 when the data has nothing for it. The same walk as mmdb-lib's
 * `findAddressInTree` (test/providers/mmdb-tree.test.ts holds the two together over random addresses and
 * trees of every record size), without its parse of the address string into an array of bytes (split,
 * parseInt, one array per lookup) and its per-bit function calls: on a stream of new IPs that parse and walk
 * were about 12% of a whole check's CPU profile.
 */
export function ipv4Finder(db: Buffer, tree: TreeWalk): (value: number) => number {
  const { nodeCount, nodeByteSize, recordSize } = tree;
  const start = ipv4StartNode(db, tree);
  /** From `node` at `depth`, down to `to` bits (or out of the tree): the record value reached. */
  const walk = (value: number, node: number, depth: number, to: number): number => {
    for (; depth < to && node < nodeCount; depth++) {
      const o = node * nodeByteSize;
      const right = (value >>> (31 - depth)) & 1;
      if (recordSize === 24) {
        const p = o + right * 3;
        node = (db[p]! << 16) | (db[p + 1]! << 8) | db[p + 2]!;
      } else if (recordSize === 28) {
        const p = o + right * 4;
        const high = right ? (db[o + 3]! & 0x0f) << 24 : (db[o + 3]! & 0xf0) << 20;
        node = high | (db[p]! << 16) | (db[p + 1]! << 8) | db[p + 2]!;
      } else {
        const p = o + right * 4;
        node = ((db[p]! << 24) | (db[p + 1]! << 16) | (db[p + 2]! << 8) | db[p + 3]!) >>> 0;
      }
    }
    return node;
  };
  // Where each /16 leads (a node at depth 16, or the record a shorter prefix ends on), filled on first use:
  // one read instead of the first 16 levels, which a server's other work evicts from the CPU caches between
  // two checks. 512 KiB, in doubles so that any 32-bit record value fits beside the -1 of "not yet".
  const by16 = new Float64Array(65_536).fill(-1);
  return (value) => {
    const top = value >>> 16;
    let node = by16[top]!;
    if (node < 0) {
      node = walk(value, start, 0, 16);
      by16[top] = node;
    }
    node = walk(value, node, 16, 32);
    return node > nodeCount ? node : 0;
  };
}
