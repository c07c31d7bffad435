/** UsageError: a mistake on the command line, which main() turns into exit 1 and a message on stderr. */

/** A mistake on the command line: exit 1, the message on stderr. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
