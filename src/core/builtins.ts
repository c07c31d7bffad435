/**
 * Node's built-in modules, reached at call time instead of by a static import, so that `ipmatch`,
 * `ipmatch/fetch` and `ipmatch/hono` load on runtimes that have none (Cloudflare Workers without
 * `nodejs_compat`, browsers). `process.getBuiltinModule` is synchronous and exists on Node ≥ 20.16, Bun and
 * Deno; elsewhere this returns undefined and the caller takes its runtime-neutral path (bytes instead of a
 * path, Web Crypto instead of node:crypto, fetch instead of undici).
 */
interface Builtins {
  'node:fs': typeof import('node:fs');
  'node:crypto': typeof import('node:crypto');
  'node:module': typeof import('node:module');
  'node:path': typeof import('node:path');
  'node:os': typeof import('node:os');
  'node:http': typeof import('node:http');
  'node:https': typeof import('node:https');
}

type GetBuiltin = <K extends keyof Builtins>(name: K) => Builtins[K];

const getBuiltin = (
  globalThis as { process?: { getBuiltinModule?: GetBuiltin } }
).process?.getBuiltinModule?.bind((globalThis as { process?: object }).process);

/** The built-in module, or undefined on a runtime without Node's built-ins. */
export function builtin<K extends keyof Builtins>(name: K): Builtins[K] | undefined {
  return getBuiltin?.(name);
}

/** The built-in module, or an error that names the runtime-neutral alternative the caller should use. */
export function requireBuiltin<K extends keyof Builtins>(name: K, instead: string): Builtins[K] {
  const mod = builtin(name);
  if (!mod) throw new Error(`ipmatch: ${name} is not available on this runtime; ${instead}`);
  return mod;
}

/**
 * setImmediate where the runtime has it (after the event loop's I/O phase), else a zero-delay timer: Workers
 * and browsers have no setImmediate.
 */
export const afterIo: (callback: () => void) => void =
  typeof globalThis.setImmediate === 'function'
    ? (callback) => void globalThis.setImmediate(callback)
    : (callback) => void setTimeout(callback, 0);
