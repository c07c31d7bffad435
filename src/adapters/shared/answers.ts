/** The default answers of a route that does not pass a request on: 403 blocked, 400 no phone, 413/415 body unread. */
import { SIGNALS } from '../../core/signals.js';
import type { IpMatchDecision, MatchLevel, Reason, Signal } from '../../core/types.js';
import { UnreadBody } from './unread-body.js';

type LevelCause = 'ip_phone_mismatch' | 'ip_phone_unverified' | 'ip_match_unavailable';

/** The default 403 body of a blocked request. */
export interface BlockBody {
  /** The cause: the match level's, or the signal that decided the block when the level alone would not have. */
  error: LevelCause | Signal;
  message: string;
  matchLevel: MatchLevel;
  reason: Reason;
}
/** The 400 body of a request without a plausible phone number. */
export interface InvalidPhoneBody {
  error: 'invalid_phone';
  message: string;
}
/** The 413 or 415 body of a request whose body was not read: too large, or of a content type no parser read. */
export interface BodyErrorBody {
  error: 'body_too_large' | 'unsupported_content_type';
  message: string;
}
/** What a route answers to a request it found no usable phone in. */
export type PhoneAnswer =
  | { status: 400; body: InvalidPhoneBody }
  | { status: 413 | 415; body: BodyErrorBody };

const BLOCK_MESSAGES: Record<LevelCause, string> = {
  ip_phone_mismatch: "The phone number's country does not match the country of your network connection.",
  ip_phone_unverified: "The phone number's country could not be checked against your network connection.",
  ip_match_unavailable: 'The phone number could not be checked right now. Please try again later.',
};

/**
 * The default 403 body: its `error` names the cause, the signal that decided the block (the policy's `cause`) or
 * else the match level's.
 */
export function blockBody(decision: IpMatchDecision, cause: Signal | null): BlockBody {
  if (cause) {
    const { matchLevel, reason } = decision;
    return { error: cause, message: SIGNALS[cause].message, matchLevel, reason };
  }
  // A degraded mismatch was decided on the offline data, which found the countries apart: say so.
  const error =
    decision.error && !(decision.degraded && decision.matchLevel === 'mismatch')
      ? 'ip_match_unavailable'
      : decision.matchLevel === 'mismatch'
        ? 'ip_phone_mismatch'
        : 'ip_phone_unverified';
  return { error, message: BLOCK_MESSAGES[error], matchLevel: decision.matchLevel, reason: decision.reason };
}

const answer = <A extends PhoneAnswer>(status: A['status'], error: A['body']['error'], message: string) =>
  Object.freeze({ status, body: Object.freeze({ error, message }) }) as A;

/**
 * The answers of a route whose phone is read at `path` (undefined: read by a function), for what was read there:
 * a value, or the `UnreadBody` that says why there was none. End users read these, so they say what the client
 * can do and never give server advice (which goes to the developer's log, once).
 */
export function phoneAnswers(path: string | undefined): (phone: unknown) => PhoneAnswer {
  const at = path === undefined ? '' : ` at "${path}" in the request body`;
  const notRead = answer(400, 'invalid_phone', 'The phone number could not be read from the request body.');
  const tooLarge = answer(413, 'body_too_large', 'The request body is too large: at most 1 MiB is read.');
  const unsupported = (accepts: string | undefined) =>
    answer(
      415,
      'unsupported_content_type',
      accepts
        ? `Unsupported content type: send the phone number as ${accepts}.`
        : 'Unsupported content type: the phone number cannot be read from a body of this type.',
    );
  const skipped = unsupported(undefined);
  const notJsonOrForm = unsupported(UnreadBody.notJsonOrForm.accepts);
  const missing = answer(400, 'invalid_phone', `Missing phone number: expected it${at}.`);
  const number = answer(
    400,
    'invalid_phone',
    `Not a valid phone number${at}: send it as a string, such as "+447400123456", not as a number.`,
  );
  const unparseable = answer(
    400,
    'invalid_phone',
    `Not a valid phone number${at}: use the international format, such as +447400123456.`,
  );
  return (phone) => {
    if (phone instanceof UnreadBody) {
      if (phone.why === 'too_large') return tooLarge;
      if (phone.why === 'no_parser') return notRead;
      return phone === UnreadBody.notJsonOrForm ? notJsonOrForm : skipped;
    }
    if (phone === undefined || phone === null || phone === '') return missing;
    return typeof phone === 'number' ? number : unparseable;
  };
}

/** A route's own HTTP answer: its status and JSON body. */
export type RouteAnswer = { status: 403; body: BlockBody } | PhoneAnswer;

const defaultPhoneAnswers = phoneAnswers('phone');

/**
 * What a route with the default options (`phone: 'phone'`, `onInvalidPhone: 'reject'`, no `onBlock`) answers
 * to `decision` for the `phone` it read, or null when it passes the request on to the handler.
 */
export function defaultAnswer(
  { decision, cause }: { decision: IpMatchDecision; cause: Signal | null },
  phone: unknown,
): RouteAnswer | null {
  if (decision.reason === 'phone_invalid') return defaultPhoneAnswers(phone);
  return decision.action === 'block' ? { status: 403, body: blockBody(decision, cause) } : null;
}
