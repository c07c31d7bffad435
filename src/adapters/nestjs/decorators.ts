/** `@IpMatchRoute(options)` on a controller or a handler, and `@IpMatchDecision()` on a handler's parameter. */
import {
  type CustomDecorator,
  createParamDecorator,
  type ExecutionContext,
  SetMetadata,
} from '@nestjs/common';
import type { IpMatchDecision as Decision } from '../../core/types.js';
import type { RouteOptions } from '../shared/route.js';

/** The metadata key `@IpMatchRoute()` writes and the guard reads. */
export const IPMATCH_ROUTE = 'ipmatch:route';

/**
 * The part of the platform's request (Express `Request`, `FastifyRequest`) that every function option can rely
 * on. Name your platform's type to get the rest: `@IpMatchRoute<Request>({ phone: (req) => req.body.user.phone })`.
 */
export interface NestHttpRequest {
  headers: Record<string, string | string[] | undefined>;
  method: string;
  body?: unknown;
}

/**
 * Answers a blocked request instead of the default 403: send it on `response` (Express `Response`, Fastify
 * `FastifyReply`). The guard then stops the request; Nest's exception layer sees that the answer was sent.
 */
export type OnBlock<Req = NestHttpRequest, Res = unknown> = (
  request: Req,
  response: Res,
  decision: Decision,
) => void | Promise<void>;

/**
 * One route's options: the shared `RouteOptions` (phone path, country, clientIp, trustedProxies, policy, mode,
 * onInvalidPhone, name, each with its default there). They merge key by key: the handler's over the
 * controller's, over `IpMatchModule.forRoot({ route })`.
 */
export type IpMatchRouteOptions<Req = NestHttpRequest, Res = unknown> = RouteOptions<Req, OnBlock<Req, Res>>;

/**
 * Sets the ipmatch options of a controller (every handler in it) or of one handler, which wins over its
 * controller's key by key. They are checked when the application starts (`IpMatchConfigError`), and each
 * handler's route is compiled once.
 */
export function IpMatchRoute<Req = NestHttpRequest, Res = unknown>(
  options: IpMatchRouteOptions<Req, Res>,
): CustomDecorator<typeof IPMATCH_ROUTE> {
  return SetMetadata(IPMATCH_ROUTE, Object.freeze({ ...options }));
}

/**
 * Hands the handler the decision `IpMatchGuard` made for this request (`request.ipMatch`); undefined on a
 * handler that the guard does not cover.
 */
export const IpMatchDecision: () => ParameterDecorator = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Decision | undefined =>
    context.switchToHttp().getRequest<{ ipMatch?: Decision }>().ipMatch,
);
/** The decision's type under the decorator's name, so that `@IpMatchDecision() decision: IpMatchDecision` reads. */
export type IpMatchDecision = Decision;
