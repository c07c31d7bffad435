// IpMatchDataError: why an update, a rollback or a candidate file was refused, with a code.

/** Why an update (or a rollback) failed; `status: 'failed'` carries it as `error.code`. */
export type DataErrorCode =
  | 'http_status'
  | 'download_failed'
  | 'unreachable'
  | 'timeout'
  | 'too_slow'
  | 'too_large'
  | 'checksum_mismatch'
  | 'checksum_unreadable'
  | 'invalid_database'
  | 'future_build'
  | 'older_build'
  | 'sanity_failed'
  | 'locked'
  | 'no_previous'
  | 'no_feed_usable'
  | 'unsupported_runtime';

/**
 * A failed update or rollback. The installed data is untouched when this is thrown. Messages never hold
 * a secret: URLs in them are redacted, credentials are never part of them.
 */
export class IpMatchDataError extends Error {
  override readonly name = 'IpMatchDataError';
  readonly code: DataErrorCode;
  /**
   * What to do next, when there is a clear next step (an `unreachable` source: which data stays in use, and
   * a mirror, a proxy or a local file). Also the end of `message`.
   */
  readonly hint?: string;

  constructor(code: DataErrorCode, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.hint !== undefined) this.hint = options.hint;
  }
}
