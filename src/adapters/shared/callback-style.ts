import type { IpMatchDecision } from '../../core/types.js';
import type { Outcome, Route } from './route.js';

/** How a callback-style framework (`(req, res, next)`: Express, Fastify) does the three things ipMatch needs. */
export interface CallbackStyle<Req, Res> {
  /** The parsed body, or the `UnreadBody` that says why there is none (`NO_BODY_PARSER`…). */
  body(req: Req): unknown;
  /** Stores the decision where handlers look for it (`req.ipMatch`). */
  store(req: Req, decision: IpMatchDecision): void;
  /** Answers `status` with the JSON `body`. */
  send(res: Res, status: number, body: object): void;
}

export type CallbackOnBlock<Req, Res> = (
  req: Req,
  res: Res,
  decision: IpMatchDecision,
) => void | Promise<void>;

/**
 * The per-request middleware of a callback-style framework. It answers synchronously when the outcome is
 * already here (offline: no promise per request), and hands every failure, such as an `onBlock` that rejects,
 * to `next(err)` rather than relying on the framework to catch it.
 */
export function callbackMiddleware<Req, Res>(
  route: Route<Req, CallbackOnBlock<Req, Res>>,
  style: CallbackStyle<Req, Res>,
): (req: Req, res: Res, next: (err?: Error) => void) => void | Promise<void> {
  const { onBlock } = route;
  const answer = (outcome: Outcome, req: Req, res: Res, next: (err?: Error) => void) => {
    style.store(req, outcome.decision);
    if (outcome.kind === 'next') return next();
    if (outcome.kind === 'block' && onBlock) return onBlock(req, res, outcome.decision);
    style.send(res, outcome.status, outcome.body);
  };
  return function ipMatchMiddleware(req, res, next) {
    const outcome = route.run(req, style.body(req));
    if (outcome instanceof Promise) return outcome.then((o) => answer(o, req, res, next)).catch(next);
    const answered = answer(outcome, req, res, next);
    if (answered instanceof Promise) return answered.catch(next);
  };
}
