/**
 * The compiled IP-nature file: "IPNT", a format number, a JSON header (feeds, sources, labels), then per family
 * the segments' first and last addresses as little-endian u32 words (IPv6 as four, most significant first)
 * and a u16 label each. Sorted and disjoint, so that a lookup is one binary search over typed arrays.
 */
import { IpMatchDataError } from '../errors.js';
import { u16Column, u32Column } from './columns.js';
import type { CompiledNature, NatureSource } from './compile.js';
import { FEED_NAMES, type FeedSummary, NATURE_KINDS } from './types.js';

const MAGIC = 0x544e5049; // "IPNT" read as a little-endian u32
export const NATURE_FORMAT = 1;
const MAX_HEADER = 4 * 1024 * 1024;

/** What the header records: when and from what the file was built. */
export interface NatureHeader {
  format: number;
  builtAt: string;
  feeds: FeedSummary[];
  sources: NatureSource[];
  labels: number[][];
}

/** The file's content as typed arrays, ready for lookups. */
export interface NatureColumns {
  header: NatureHeader;
  v4First: Uint32Array;
  v4Last: Uint32Array;
  v4Label: Uint16Array;
  /** Four words an address, most significant first. */
  v6First: Uint32Array;
  v6Last: Uint32Array;
  v6Label: Uint16Array;
}

const align4 = (n: number): number => (n + 3) & ~3;
/** The bytes of the columns: bounds (one word an IPv4 bound, four an IPv6 one), then u16 labels, v4's padded. */
const columnBytes = (n4: number, n6: number): number => n4 * 8 + n6 * 32 + align4(n4 * 2) + n6 * 2;

/** Writes a compiled dataset as the file's bytes. `builtAt` is an ISO 8601 date-time. */
export function writeNatureTable(compiled: CompiledNature, builtAt: string): Uint8Array {
  if (compiled.labels.length > 0xffff)
    throw new RangeError(`${compiled.labels.length} labels: at most 65535 fit a u16`);
  const { feeds, sources, labels } = compiled;
  const header: NatureHeader = { format: NATURE_FORMAT, builtAt, feeds, sources, labels };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const n4 = compiled.v4.first.length;
  const n6 = compiled.v6.first.length;
  const body = align4(12 + json.length);
  const size = body + 8 + columnBytes(n4, n6);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, NATURE_FORMAT, true);
  view.setUint32(8, json.length, true);
  bytes.set(json, 12);
  let o = body;
  const u32 = (v: number): void => {
    view.setUint32(o, v, true);
    o += 4;
  };
  u32(n4);
  u32(n6);
  for (const list of [compiled.v4.first, compiled.v4.last]) for (const v of list) u32(Number(v));
  for (const list of [compiled.v6.first, compiled.v6.last]) {
    for (const v of list)
      for (let shift = 96n; shift >= 0n; shift -= 32n) u32(Number((v >> shift) & 0xffffffffn));
  }
  for (const column of [compiled.v4.label, compiled.v6.label]) {
    for (const l of column) {
      view.setUint16(o, l, true);
      o += 2;
    }
    o = align4(o);
  }
  return bytes;
}

function invalid(label: string, why: string): IpMatchDataError {
  return new IpMatchDataError('invalid_database', `${label} is not a valid IP-nature file: ${why}`);
}

function checkHeader(h: NatureHeader, label: string): void {
  if (typeof h.builtAt !== 'string' || Number.isNaN(Date.parse(h.builtAt)))
    throw invalid(label, 'no build date');
  if (!Array.isArray(h.feeds) || !Array.isArray(h.sources) || !Array.isArray(h.labels)) {
    throw invalid(label, 'the header lacks feeds, sources or labels');
  }
  for (const f of h.feeds) {
    if (!FEED_NAMES.includes(f?.name) || !NATURE_KINDS.includes(f.kind))
      throw invalid(label, 'an unknown feed');
  }
  for (const s of h.sources) {
    if (!FEED_NAMES.includes(s?.feed) || typeof s.network !== 'string')
      throw invalid(label, 'a malformed source');
  }
  for (const l of h.labels) {
    if (
      !Array.isArray(l) ||
      l.length === 0 ||
      l.some((s, i) => !(s >= 0 && s < h.sources.length) || s <= l[i - 1]!)
    ) {
      throw invalid(label, 'a label names no source, or an unknown one');
    }
  }
}

/** Compares IPv6 segment bounds a[i] and b[j] (four words each). */
function cmp6(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  for (let k = 0; k < 4; k++) {
    const d = a[i * 4 + k]! - b[j * 4 + k]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** How `readNatureColumns` may read a file's bytes; both default to false. */
export interface ReadHow {
  /** The bytes are the reader's own (read from a file): the columns may be views over them, not copies. */
  shared?: boolean;
  /**
   * The bytes are the snapshot shipped in this package (`bundledNaturePath()`), which is ours: its magic,
   * format, header, counts and size are checked, not each segment's order. Never for a data dir's file or bytes
   * a caller passes.
   */
  bundled?: boolean;
}

/**
 * Reads and validates a file's bytes: magic, format, header, sizes, and that segments are ascending, disjoint
 * and labelled with known labels (unless `how.bundled`). Throws IpMatchDataError('invalid_database') for
 * anything else, so that a broken file is never put in service. Bytes a caller passes are copied, so that a
 * buffer changed later changes nothing.
 */
export function readNatureColumns(
  bytes: Uint8Array,
  label = 'the IP-nature data',
  how: ReadHow = {},
): NatureColumns {
  const shared = how.shared === true;
  if (bytes.length < 20) throw invalid(label, 'too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw invalid(label, 'it does not start with "IPNT"');
  const format = view.getUint32(4, true);
  if (format !== NATURE_FORMAT)
    throw invalid(label, `format ${format}; this version of ipmatch reads ${NATURE_FORMAT}`);
  const hlen = view.getUint32(8, true);
  if (hlen > MAX_HEADER || 12 + hlen + 8 > bytes.length) throw invalid(label, 'its header overruns the file');
  let header: NatureHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + hlen)));
  } catch {
    throw invalid(label, 'its header is not JSON');
  }
  if (typeof header !== 'object' || header === null) throw invalid(label, 'its header is not an object');
  checkHeader(header, label);
  let o = align4(12 + hlen);
  const n4 = view.getUint32(o, true);
  const n6 = view.getUint32(o + 4, true);
  o += 8;
  if (bytes.length !== o + columnBytes(n4, n6))
    throw invalid(label, 'its size does not match its segment counts');
  const v4First = u32Column(bytes, o, n4, shared);
  const v4Last = u32Column(bytes, o + n4 * 4, n4, shared);
  o += n4 * 8;
  const v6First = u32Column(bytes, o, n6 * 4, shared);
  const v6Last = u32Column(bytes, o + n6 * 16, n6 * 4, shared);
  o += n6 * 32;
  const v4Label = u16Column(bytes, o, n4, shared);
  o = align4(o + n4 * 2);
  const v6Label = u16Column(bytes, o, n6, shared);
  const columns = { header, v4First, v4Last, v4Label, v6First, v6Last, v6Label };
  if (how.bundled !== true) checkSegments(columns, label);
  return columns;
}

/** Every segment ascending, disjoint from the one before, and labelled with a label the header holds. */
function checkSegments(c: NatureColumns, label: string): void {
  const { v4First, v4Last, v4Label, v6First, v6Last, v6Label } = c;
  const labels = c.header.labels.length;
  const n4 = v4Label.length;
  const n6 = v6Label.length;
  for (let i = 0; i < n4; i++) {
    if (v4First[i]! > v4Last[i]! || (i > 0 && v4First[i]! <= v4Last[i - 1]!) || v4Label[i]! >= labels) {
      throw invalid(label, `IPv4 segment ${i} is out of order or unlabelled`);
    }
  }
  for (let i = 0; i < n6; i++) {
    if (
      cmp6(v6First, i, v6Last, i) > 0 ||
      (i > 0 && cmp6(v6First, i, v6Last, i - 1) <= 0) ||
      v6Label[i]! >= labels
    ) {
      throw invalid(label, `IPv6 segment ${i} is out of order or unlabelled`);
    }
  }
}
