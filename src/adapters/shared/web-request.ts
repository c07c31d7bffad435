/**
 * What the fetch-standard adapters (ipmatch/fetch, ipmatch/hono) share: a `Request`'s headers as the client-IP
 * code reads them, and its body, which ipmatch reads itself since these runtimes have no body parser to rely on.
 */
import { readUpTo } from '../../core/read-stream.js';
import type { PeerRequest } from './client-ip-types.js';
import { UnreadBody } from './unread-body.js';

/**
 * The request's headers and peer in the shape of Node's IncomingMessage. Headers are read on demand, not
 * copied: most requests need one or none of them.
 */
export function peerRequest(headers: Headers, remoteAddress?: string): PeerRequest {
  const view = new Proxy({} as Record<string, string | undefined>, {
    get: (_, name) => (typeof name === 'string' ? (headers.get(name) ?? undefined) : undefined),
  });
  return { headers: view, socket: remoteAddress === undefined ? null : { remoteAddress } };
}

/** The most ipmatch reads to find a phone number: 1 MiB, Fastify's default `bodyLimit`. */
export const BODY_LIMIT = 1_048_576;

/** The media types whose bodies ipmatch reads: the ones a signup form or a JSON client sends. */
export const PARSED = new Set([
  'application/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
]);

/** The media type of a Content-Type header, lower-cased without parameters, or '' when there is none. */
export function mediaType(contentType: string | null | undefined): string {
  if (!contentType) return '';
  // The common case, already in normal form: no array or strings made for it.
  if (contentType === 'application/json') return contentType;
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/**
 * The body as a plain object: JSON, a urlencoded form, or the text fields of a multipart form. Anything else
 * (another content type, malformed data) is `{}`: the client's bad input, which the route answers with 400.
 */
export async function parseBody(bytes: Uint8Array, contentType: string | null): Promise<unknown> {
  try {
    const type = mediaType(contentType);
    if (type === 'application/json') return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    if (type === 'application/x-www-form-urlencoded') {
      return Object.fromEntries(new URLSearchParams(new TextDecoder().decode(bytes)));
    }
    if (type === 'multipart/form-data') {
      const form = await new Response(bytes, { headers: { 'content-type': contentType! } }).formData();
      const fields: Record<string, string> = {};
      for (const [name, value] of form) if (typeof value === 'string') fields[name] = value;
      return fields;
    }
  } catch {
    // Malformed JSON or multipart: no phone to read.
  }
  return {};
}

/**
 * The parsed body of `request`, read from a clone so that the handler can still read the body itself. A body
 * of another content type is `UnreadBody.notJsonOrForm` (a 415); the read stops at `BODY_LIMIT`, and a larger
 * body is `UnreadBody.tooLarge` (a 413), never a crash.
 */
export async function readBody(request: Request): Promise<unknown> {
  if (request.body === null) return {};
  const contentType = request.headers.get('content-type');
  if (!PARSED.has(mediaType(contentType))) return UnreadBody.notJsonOrForm;
  if (Number(request.headers.get('content-length')) > BODY_LIMIT) return UnreadBody.tooLarge;
  try {
    const bytes = await readUpTo(request.clone().body!, BODY_LIMIT);
    return bytes ? await parseBody(bytes, contentType) : UnreadBody.tooLarge;
  } catch {
    // The body was already read by someone else, or the client hung up mid-body.
    return {};
  }
}
