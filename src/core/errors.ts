/**
 * Thrown when a core, provider, store or middleware is built with options that cannot work.
 * Never thrown per request. `problems` lists each bad field; `message` joins them for humans.
 */
export class IpMatchConfigError extends Error {
  override readonly name = 'IpMatchConfigError';
  readonly code = 'IPMATCH_CONFIG';
  readonly problems: readonly string[];

  constructor(where: string, problems: readonly string[]) {
    const list =
      problems.length === 1 ? ` ${problems[0]}` : `\n${problems.map((p) => `  - ${p}`).join('\n')}`;
    super(`ipmatch: invalid ${where}:${list}`);
    this.problems = problems;
  }
}

/**
 * What a provider throws when a lookup fails. The core turns it into a decision whose `error` is
 * `{ code, message }`. Messages must never hold a secret, a URL with credentials, or a full phone number.
 */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly code: string;
  /** Whether the failure says anything about upstream health (counts towards a circuit breaker). */
  readonly upstream: boolean;

  constructor(code: string, message: string, options: { upstream?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.upstream = options.upstream ?? true;
  }
}
