/** Why an update (or a rollback) failed; `status: 'failed'` carries it as `error.code`. */
export type DataErrorCode =
  | 'http_status'
  | 'download_failed'
  | 'timeout'
  | 'too_large'
  | 'checksum_mismatch'
  | 'checksum_unreadable'
  | 'invalid_database'
  | 'future_build'
  | 'older_build'
  | 'sanity_failed'
  | 'locked'
  | 'no_previous'
  | 'unsupported_runtime';

/**
 * A failed update or rollback. The installed data is untouched when this is thrown. Messages never hold
 * a secret: URLs in them are redacted, credentials are never part of them.
 */
export class IpMatchDataError extends Error {
  override readonly name = 'IpMatchDataError';
  readonly code: DataErrorCode;

  constructor(code: DataErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}
