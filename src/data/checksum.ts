/** SHA-256s: a hand-given one checked, a publisher's read from its checksum file, a file's computed. */
import { requireBuiltin } from '../core/builtins.js';
import { IpMatchDataError } from '../geodata/errors.js';

const HEX64 = /^[0-9a-f]{64}$/i;

/** A SHA-256 given by hand (`--sha256`): 64 hex digits, any case. */
export function isSha256(value: string): boolean {
  return HEX64.test(value.trim());
}

/**
 * The SHA-256 in a published checksum: `sha256sum` output (`<hex>  <file>`, ip-location-db and MaxMind),
 * a bare hex line, or IPinfo's JSON `{ "checksums": { "sha256": … } }`.
 */
export function parseChecksum(body: string, shownUrl: string): string {
  const text = body.trim();
  if (text.startsWith('{')) {
    try {
      const sha = (JSON.parse(text) as { checksums?: { sha256?: unknown } }).checksums?.sha256;
      if (typeof sha === 'string' && HEX64.test(sha)) return sha.toLowerCase();
    } catch {
      // Not JSON after all: the message below says what was expected.
    }
  } else {
    const first = text.split(/\s+/, 1)[0] ?? '';
    if (HEX64.test(first)) return first.toLowerCase();
  }
  throw new IpMatchDataError(
    'checksum_unreadable',
    `${shownUrl} holds no SHA-256 (expected "<64 hex digits>  <file name>" or IPinfo's checksums JSON)`,
  );
}

/** The SHA-256 (hex) of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const fs = requireBuiltin('node:fs', 'files are read from disk');
  const { createHash } = requireBuiltin('node:crypto', 'files are hashed with node:crypto');
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
