/** Loads an optional peer dependency (prom-client, @opentelemetry/api) with a message that says what to install. */
import { createRequire } from 'node:module';

/**
 * An optional peer dependency, loaded when first needed rather than at import, so that an OpenTelemetry user
 * need not install prom-client. tsup's CJS output turns `import.meta` into an empty object, so `require` is the
 * CJS path (as in geodata/bundled.ts).
 */
export function requirePeer<T>(name: string, user: string): T {
  const url = import.meta.url as string | undefined;
  try {
    return (url ? createRequire(url) : require)(name) as T;
  } catch (error) {
    if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') throw error;
    throw new Error(`ipmatch: ${user} needs ${name}, an optional peer dependency: npm install ${name}`);
  }
}
