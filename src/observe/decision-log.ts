/** decisionLog(): an onDecision that writes one line per decision, in batches, off the request path. */
import * as z from 'zod/mini';
import { requireBuiltin } from '../core/builtins.js';
import { consoleLogger } from '../core/logger.js';
import type { DecisionContext, IpMatchDecision, Logger, OnDecision } from '../core/types.js';
import { holdsSecrets, parseOptions } from '../core/validate.js';
import { type DecisionLine, decisionLine, lineKeys } from './decision-line.js';

/** Something with `write(text, callback)`: a file stream, a socket, a pipe, process.stdout. */
export interface WritableDestination {
  write(chunk: string, callback?: (error?: Error | null) => void): boolean;
  once?(event: 'drain' | 'close', listener: () => void): unknown;
  on?(event: 'error', listener: (error: Error) => void): unknown;
  /** Node streams: true once the stream failed or was closed, when writing can only fail. */
  destroyed?: boolean;
}

/** A pino-style logger: each decision becomes one `info(line)` call, and the logger adds its own envelope. */
export interface InfoLogger {
  info(obj: object): void;
}

/** Options of `decisionLog()`. Every one is optional. */
export interface DecisionLogOptions {
  /**
   * Where lines go: a file path (appended to, opened per batch so that log rotation just works), a writable
   * stream, or a pino-style logger. Default `'./ipmatch-decisions.ndjson'` in the working directory.
   */
  destination?: string | WritableDestination | InfoLogger | undefined;
  /**
   * A secret of at least 16 characters: each line then gets `phoneKey`, an HMAC of the number, and
   * `prefixKey`, a keyed label of its block of 1,000 numbers (under a key of its own), so that a report can
   * count repeated numbers and rank blocks without holding any. Default: none (neither key).
   */
  keySecret?: string | undefined;
  /**
   * Digits `prefixKey` drops from the end of the number to name its block: set it to `velocity.prefix.digits`
   * if you changed that, so that the report's blocks are the ones `prefix_burst` counts. 1 to 6; default 3.
   */
  prefixDigits?: number | undefined;
  /** Add `ipPrefix`, the client's /24 (IPv4) or /48 (IPv6) network. Default false. */
  ipPrefix?: boolean | undefined;
  /** Where a failing destination is reported (once per outage). Default: console.warn. */
  logger?: Logger | undefined;
}

/** The handler `decisionLog()` returns: an `onDecision`, plus `flush()`; the core's `close()` calls `close()`. */
export interface DecisionLog extends OnDecision {
  /** Writes what is buffered; resolves once it is written (or dropped after a failure, which is warned). */
  flush(): Promise<void>;
  /** Flushes and stops the timer. Later decisions are still written: the log opens again on demand. */
  close(): Promise<void>;
}

export const DEFAULT_DECISION_LOG = './ipmatch-decisions.ndjson';
/** Lines are written in batches: at this many, or after FLUSH_MS, whichever comes first. */
const BATCH_LINES = 1000;
const FLUSH_MS = 1000;
/** Past this many lines waiting on a slow destination, new lines are dropped (and counted) rather than kept. */
const MAX_BUFFERED = 50_000;

const isFunctionAt = (v: unknown, key: string) =>
  typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>)[key] === 'function';

const DIGITS = 'expected 1 to 6 trailing digits, as velocity.prefix.digits (3 makes blocks of 1,000 numbers)';

// It holds keySecret: a config error never shows a value it was given (a secret pasted into ipPrefix…).
const schema = holdsSecrets(
  z.strictObject({
    destination: z.optional(
      z.union(
        [
          z.string().check(z.minLength(1)),
          z.custom<WritableDestination>((v) => isFunctionAt(v, 'write')),
          z.custom<InfoLogger>((v) => isFunctionAt(v, 'info')),
        ],
        { error: 'expected a file path, a writable stream, or a logger with info(obj) such as pino()' },
      ),
    ),
    keySecret: z.optional(z.string().check(z.minLength(16, 'expected a secret of at least 16 characters'))),
    prefixDigits: z.optional(
      z.number(DIGITS).check(z.int(DIGITS), z.minimum(1, DIGITS), z.maximum(6, DIGITS)),
    ),
    ipPrefix: z.optional(z.boolean()),
    logger: z.optional(
      z.custom<Logger>((v) => isFunctionAt(v, 'warn'), {
        message: 'expected an object with warn(msg, meta), such as console or a pino logger',
      }),
    ),
  }),
);

/**
 * Writes a batch of lines, calling back once with the error if it failed. A file can also be written at once
 * (`now`): see `log` below for when.
 */
type Sink = ((lines: DecisionLine[], done: (error?: unknown) => void) => void) & {
  now?(lines: DecisionLine[]): void;
};

const ndjson = (lines: DecisionLine[]) => {
  let text = '';
  for (const line of lines) text += `${JSON.stringify(line)}\n`;
  return text;
};

function fileSink(path: string): Sink {
  const fs = requireBuiltin('node:fs', 'pass a writable stream or a logger as decisionLog({ destination })');
  const absolute = requireBuiltin('node:path', 'pass a stream or a logger').resolve(path);
  const sink: Sink = (lines, done) =>
    fs.appendFile(absolute, ndjson(lines), (error) => done(error ?? undefined));
  sink.now = (lines) => fs.appendFileSync(absolute, ndjson(lines));
  return sink;
}

function streamSink(stream: WritableDestination, failed: (error: unknown) => void): Sink {
  // An 'error' event with no listener would crash the process: the log must never take the app down.
  stream.on?.('error', failed);
  let draining: Promise<void> | undefined;
  return (lines, done) => {
    const write = () => {
      let settled = false;
      const once = (error?: unknown) => {
        if (!settled) done(error ?? undefined);
        settled = true;
      };
      if (stream.destroyed) return once(new Error('the stream is closed'));
      try {
        if (!stream.write(ndjson(lines), once) && stream.once) {
          // A stream that fails or closes never drains: stop waiting then too.
          draining = new Promise((resolve) => {
            stream.once!('drain', resolve);
            stream.once!('close', resolve);
          });
        }
      } catch (error) {
        once(error);
      }
    };
    if (!draining) return write();
    void draining.then(() => {
      draining = undefined;
      write();
    });
  };
}

function loggerSink(target: InfoLogger): Sink {
  return (lines, done) => {
    try {
      for (const line of lines) target.info(line);
      done();
    } catch (error) {
      done(error);
    }
  };
}

/**
 * An `onDecision` that appends one JSON line per decision: time, route, method, action, policyAction,
 * matchLevel, reason, signals, the IP's, the phone's and the roaming country, provider, cached, error code,
 * durationMs, `velocity` (the four counts) when the check counted, and `degraded: true` when the offline data
 * decided for a remote provider that was down. **Never the phone number, its prefix or the IP address**;
 * `keySecret` and `ipPrefix` add keyed hashes and a network when asked. `ipmatch report` reads the file.
 *
 * Lines are buffered and written off the request path, in batches. A failing destination is warned about once
 * per outage and requests carry on. The core's `close()` flushes the buffer.
 *
 * @example
 * createIpMatch({ mode: 'observe', onDecision: decisionLog({ destination: './decisions.ndjson' }) });
 */
export function decisionLog(options: DecisionLogOptions = {}): DecisionLog {
  const opts = parseOptions(schema, options, 'decisionLog options');
  const logger = opts.logger ?? consoleLogger;
  const keys = opts.keySecret === undefined ? undefined : lineKeys(opts.keySecret, opts.prefixDigits);
  const withPrefix = opts.ipPrefix === true;
  const target = opts.destination ?? DEFAULT_DECISION_LOG;
  const describe = typeof target === 'string' ? `the file ${target}` : 'its destination';

  let failing = false;
  let dropped = 0;
  const failed = (error: unknown) => {
    if (failing) return;
    failing = true;
    logger.warn(`ipmatch: the decision log could not write to ${describe}; requests carry on without it`, {
      code: 'IPMATCH_DECISION_LOG_FAILED',
      error: error instanceof Error ? error.message : String(error),
    });
  };
  const sink =
    typeof target === 'string'
      ? fileSink(target)
      : isFunctionAt(target, 'write')
        ? streamSink(target as WritableDestination, failed)
        : loggerSink(target as InfoLogger);

  let buffer: DecisionLine[] = [];
  let writing: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let soon = false;

  function writeBatch(): Promise<void> {
    const lines = buffer;
    buffer = [];
    return new Promise((resolve) => {
      sink(lines, (error) => {
        if (error) {
          dropped += lines.length;
          failed(error);
        } else if (failing) {
          failing = false;
          logger.warn(`ipmatch: the decision log writes to ${describe} again; ${dropped} lines were lost`, {
            code: 'IPMATCH_DECISION_LOG_RECOVERED',
            dropped,
          });
          dropped = 0;
        }
        resolve();
      });
    });
  }

  /** One batch at a time, so that lines reach the destination in order. */
  function drain(): Promise<void> {
    if (writing) return writing;
    if (buffer.length === 0) return Promise.resolve();
    writing = (async () => {
      while (buffer.length > 0) await writeBatch();
    })().finally(() => {
      writing = undefined;
    });
    return writing;
  }

  function schedule(): void {
    if (buffer.length >= BATCH_LINES && !soon) {
      soon = true;
      setTimeout(() => {
        soon = false;
        void drain();
      }, 0);
    }
    if (timer === undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        void drain();
      }, FLUSH_MS);
      // A quiet log must not keep the process alive; close() writes what is left.
      timer.unref?.();
    }
  }

  const log = ((decision: IpMatchDecision, context: DecisionContext) => {
    if (buffer.length >= MAX_BUFFERED && sink.now && !failing) {
      // The event loop has not turned for MAX_BUFFERED decisions: a script awaiting check() in a loop on the
      // offline provider, whose promises never leave the microtask queue. No request waits on this process, so
      // a file is written at once rather than dropping lines; a batch in flight may land after these.
      const lines = buffer;
      buffer = [];
      try {
        sink.now(lines);
      } catch (error) {
        dropped += lines.length;
        failed(error);
      }
    }
    if (buffer.length >= MAX_BUFFERED) {
      dropped++;
      failed(new Error(`${MAX_BUFFERED} lines waiting: the destination is too slow`));
      return;
    }
    buffer.push(decisionLine(decision, context, keys, withPrefix));
    schedule();
  }) as DecisionLog;

  log.flush = async () => {
    // A batch in flight may have left lines behind it: drain until both are empty.
    while (writing || buffer.length > 0) await drain();
  };
  log.close = async () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    await log.flush();
  };
  return log;
}
