import type { Logger } from './types.js';

/** The default logger: stderr, so that a CLI's stdout stays parseable. */
export const consoleLogger: Logger = {
  warn: (msg, meta) => (meta ? console.warn(msg, meta) : console.warn(msg)),
  error: (msg, meta) => (meta ? console.error(msg, meta) : console.error(msg)),
};

/** Coded, one-time warnings (as express-rate-limit does): each code is logged once per core. */
export function onceLogger(logger: Logger) {
  const seen = new Set<string>();
  return {
    warn(code: string, message: string, meta?: object): void {
      if (seen.has(code)) return;
      seen.add(code);
      logger.warn(message, { code, ...meta });
    },
    reset(): void {
      seen.clear();
    },
  };
}
