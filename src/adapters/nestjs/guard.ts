/** IpMatchGuard: runs a handler's route, puts the decision on the request, and throws Nest's exceptions for answers. */
import {
  BadRequestException,
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  type HttpException,
  Inject,
  Injectable,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { internals } from '../../core/internal.js';
import type { Outcome } from '../shared/route.js';
import { IpMatchRoutes } from './routes.js';

/** The route's answer as Nest's exception, with the same JSON body every adapter answers as its response. */
function exception(outcome: Exclude<Outcome, { kind: 'next' }>): HttpException {
  switch (outcome.status) {
    case 403:
      return new ForbiddenException(outcome.body);
    case 413:
      return new PayloadTooLargeException(outcome.body);
    case 415:
      return new UnsupportedMediaTypeException(outcome.body);
    default:
      return new BadRequestException(outcome.body);
  }
}

/**
 * Checks the client IP's country against the phone number's country on HTTP routes: global
 * (`{ provide: APP_GUARD, useClass: IpMatchGuard }`) or per controller and handler (`@UseGuards(IpMatchGuard)`).
 *
 * It puts the decision on `request.ipMatch` (and `@IpMatchDecision()`), then lets the handler run, or throws
 * `ForbiddenException` (block), `BadRequestException` (missing or invalid phone), `PayloadTooLargeException` or
 * `UnsupportedMediaTypeException` (a body that was not read), each with the JSON body every ipmatch adapter
 * answers, so an exception filter can reshape it. An `onBlock` option answers a block itself instead.
 */
@Injectable()
export class IpMatchGuard implements CanActivate {
  constructor(@Inject(IpMatchRoutes) private readonly routes: IpMatchRoutes) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') {
      internals(this.routes.core)?.warnOnce(
        'IPMATCH_NEST_NOT_HTTP',
        `ipmatch: IpMatchGuard let a ${context.getType()} call through unchecked: it checks HTTP requests only`,
      );
      return true;
    }
    const { platform, route } = this.routes.route(context.getClass(), context.getHandler());
    const http = context.switchToHttp();
    const request: unknown = http.getRequest();
    const answer = (outcome: Outcome): boolean | Promise<boolean> => {
      platform.store(request, outcome.decision);
      if (outcome.kind === 'next') return true;
      if (outcome.kind === 'block' && route.onBlock) {
        // onBlock sent the answer: the exception stops the handler, and Nest's filter sees the headers sent.
        return Promise.resolve(route.onBlock(request, http.getResponse(), outcome.decision)).then(() => {
          throw exception(outcome);
        });
      }
      throw exception(outcome);
    };
    // Synchronous when the outcome is already here (offline: no promise per request).
    const outcome = route.run(request, platform.body(request));
    return outcome instanceof Promise ? outcome.then(answer) : answer(outcome);
  }
}
