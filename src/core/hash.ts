/** SHA-256 in hex: node:crypto where it exists, Web Crypto elsewhere (Workers). */
import { builtin } from './builtins.js';

let nodeCrypto: typeof import('node:crypto') | null | undefined;

/**
 * SHA-256 of `text`, in hex. node:crypto where the runtime has it (synchronous, so a cache hit stays cheap);
 * Web Crypto elsewhere (Workers, browsers), which only answers asynchronously.
 */
export function sha256Hex(text: string): string | Promise<string> {
  if (nodeCrypto === undefined) nodeCrypto = builtin('node:crypto') ?? null;
  if (nodeCrypto) {
    // The one-shot crypto.hash (Node ≥ 20.12) costs half of createHash().update().digest() per remote check;
    // runtimes that imitate node:crypto may not have it yet.
    if (typeof nodeCrypto.hash === 'function') return nodeCrypto.hash('sha256', text, 'hex');
    return nodeCrypto.createHash('sha256').update(text).digest('hex');
  }
  return crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)).then(toHex);
}

function toHex(buffer: ArrayBuffer): string {
  let hex = '';
  for (const byte of new Uint8Array(buffer)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
