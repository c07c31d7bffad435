/** Markers an adapter passes to the route instead of a parsed body, saying why there is none to read. */

/** Why a request's body was not read: the answer (and any hint to the developer) follows from it. */
export class UnreadBody {
  private constructor(
    /**
     * `no_parser`: nothing parsed bodies at all, the developer's to fix. `unsupported`: a parser ran but skipped
     * this content type, the client's (415). `too_large`: over the limit ipmatch reads, the client's (413).
     */
    readonly why: 'no_parser' | 'unsupported' | 'too_large',
    /** For `unsupported`, what the route does read, in an end user's words ('JSON or a form'), when known. */
    readonly accepts?: string,
  ) {}

  static readonly noParser = new UnreadBody('no_parser');
  /** A body parser skipped the content type; which types it reads is the framework's business. */
  static readonly unsupported = new UnreadBody('unsupported');
  /** ipmatch reads the body itself (fetch-standard adapters), so it knows what it reads. */
  static readonly notJsonOrForm = new UnreadBody('unsupported', 'JSON or a form');
  static readonly tooLarge = new UnreadBody('too_large');
}

/** The body to pass when no body parser ran at all (as opposed to one that left the body empty). */
export const NO_BODY_PARSER = UnreadBody.noParser;

/** Whether the request's headers announce a body: a length above 0, or a chunked transfer. */
export function announcesBody(headers: Record<string, string | string[] | undefined>): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
