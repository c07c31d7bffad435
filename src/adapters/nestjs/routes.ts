/** Each handler's compiled route on the module's one core, compiled at startup, and the core closed at shutdown. */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost, MetadataScanner, Reflector } from '@nestjs/core';
import type { IpMatch } from '../../core/types.js';
import { buildRoute, type Route } from '../shared/route.js';
import { IPMATCH_ROUTE, type IpMatchRouteOptions, type OnBlock } from './decorators.js';
import { type NestPlatform, nestPlatform } from './platforms.js';

/** The injection token of the module's core (`@Inject(IPMATCH_CORE) core: IpMatch`, for `core.verified()`). */
export const IPMATCH_CORE = 'ipmatch:core';
/** The injection token of the route options every handler starts from (`forRoot({ route })`). */
export const IPMATCH_ROUTE_DEFAULTS = 'ipmatch:route-defaults';

/** A controller class or a handler method, as Nest hands them over. */
type Target = Function;
type NestRoute = Route<unknown, OnBlock<unknown, unknown>>;

/** What the guard runs for one handler: the platform's reading of a request, and the handler's route. */
export interface HandlerRoute {
  platform: NestPlatform;
  route: NestRoute;
}

/**
 * The routes of the application's handlers, one per handler, each compiled once over the shared core: at startup
 * for every handler that carries `@IpMatchRoute` (itself or its controller), so that a mistake in them throws
 * `IpMatchConfigError` when the application starts; on its first request for any other guarded handler.
 */
@Injectable()
export class IpMatchRoutes implements OnApplicationBootstrap, OnApplicationShutdown {
  private platform: NestPlatform | undefined;
  private readonly byController = new WeakMap<Target, WeakMap<Target, HandlerRoute>>();

  constructor(
    @Inject(IPMATCH_CORE) readonly core: IpMatch,
    @Inject(IPMATCH_ROUTE_DEFAULTS) private readonly defaults: IpMatchRouteOptions<unknown, unknown>,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
  ) {}

  /** Compiles the module's defaults and every decorated handler: a bad option stops the start, naming itself. */
  onApplicationBootstrap(): void {
    // An application context without HTTP (a worker, a CLI) has no routes to guard.
    if (!this.adapterHost.httpAdapter) return;
    const platform = this.currentPlatform();
    buildRoute(this.core, this.defaults, platform.framework);
    const scanner = new MetadataScanner();
    for (const { metatype, instance } of this.discovery.getControllers()) {
      if (!metatype || !instance) continue;
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      for (const name of scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        if (typeof handler !== 'function') continue;
        if (this.own(metatype) || this.own(handler)) this.route(metatype, handler);
      }
    }
  }

  /** The core closes after Nest has stopped the HTTP server, so requests still in flight finish first. */
  async onApplicationShutdown(): Promise<void> {
    await this.core.close();
  }

  /** The handler's route, compiled on first use and cached per controller and handler. */
  route(controller: Target, handler: Target): HandlerRoute {
    let handlers = this.byController.get(controller);
    if (!handlers) {
      handlers = new WeakMap();
      this.byController.set(controller, handlers);
    }
    let compiled = handlers.get(handler);
    if (!compiled) {
      const platform = this.currentPlatform();
      const options = { ...this.defaults, ...this.own(controller), ...this.own(handler) };
      compiled = { platform, route: buildRoute(this.core, options, platform.framework) };
      handlers.set(handler, compiled);
    }
    return compiled;
  }

  private own(target: Target): IpMatchRouteOptions<unknown, unknown> | undefined {
    return this.reflector.get(IPMATCH_ROUTE, target) as IpMatchRouteOptions<unknown, unknown> | undefined;
  }

  private currentPlatform(): NestPlatform {
    this.platform ??= nestPlatform(this.adapterHost.httpAdapter.getType());
    return this.platform;
  }
}
