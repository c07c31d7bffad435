/** IpMatchModule: forRoot / forRootAsync build the application's one core and provide the guard's routes. */
import { type DynamicModule, type FactoryProvider, Module, type ModuleMetadata } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { IpMatchOptions } from '../../core/options.js';
import { createIpMatch } from '../../create-ip-match.js';
import type { IpMatchRouteOptions, NestHttpRequest } from './decorators.js';
import { IpMatchGuard } from './guard.js';
import { IPMATCH_CORE, IPMATCH_ROUTE_DEFAULTS, IpMatchRoutes } from './routes.js';

/** The core's options (`IpMatchOptions`, each default there), and the route options every handler starts from. */
export interface IpMatchModuleOptions<Req = NestHttpRequest, Res = unknown> extends IpMatchOptions {
  /**
   * Route options for every guarded handler (phone path, clientIp, trustedProxies, onInvalidPhone…), under each
   * controller's and handler's `@IpMatchRoute`. Default: none, so each route option has its own default.
   */
  route?: IpMatchRouteOptions<Req, Res> | undefined;
}

/** `forRootAsync`: the options from a factory, with the providers it injects (a config service…). */
export interface IpMatchModuleAsyncOptions {
  /** Modules whose providers `useFactory` injects, such as `ConfigModule`. */
  imports?: ModuleMetadata['imports'];
  /** Returns the module's options; it receives the providers named in `inject`, in that order. */
  // biome-ignore lint/suspicious/noExplicitAny: the providers' types are the user's, as in Nest's own FactoryProvider.
  useFactory: (...args: any[]) => IpMatchModuleOptions | Promise<IpMatchModuleOptions>;
  /** The providers `useFactory` receives. Default: none. */
  inject?: FactoryProvider['inject'];
}

const OPTIONS = 'ipmatch:module-options';

/**
 * The application's ipmatch: one core (cache, connections, signal counters) shared by every guarded route, and
 * closed when the application shuts down. Global: `IpMatchGuard` and `IPMATCH_CORE` resolve in every module.
 */
@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: Nest knows a module by its class (imports: [IpMatchModule.forRoot()]).
export class IpMatchModule {
  /** Builds the core from `options` when the module is created; a mistake throws `IpMatchConfigError` then. */
  static forRoot<Req = NestHttpRequest, Res = unknown>(
    options: IpMatchModuleOptions<Req, Res> = {},
  ): DynamicModule {
    return IpMatchModule.build({ provide: OPTIONS, useValue: options }, []);
  }

  /** Builds the core from what `useFactory` returns, with the providers it injects (a config service…). */
  static forRootAsync(options: IpMatchModuleAsyncOptions): DynamicModule {
    const { imports = [], useFactory, inject = [] } = options;
    return IpMatchModule.build({ provide: OPTIONS, useFactory, inject }, imports);
  }

  private static build(
    options: DynamicModule['providers'] extends (infer P)[] | undefined ? P : never,
    imports: NonNullable<ModuleMetadata['imports']>,
  ): DynamicModule {
    return {
      module: IpMatchModule,
      global: true,
      imports: [DiscoveryModule, ...imports],
      providers: [
        options,
        {
          provide: IPMATCH_CORE,
          useFactory: ({ route: _route, ...core }: IpMatchModuleOptions) => createIpMatch(core),
          inject: [OPTIONS],
        },
        {
          provide: IPMATCH_ROUTE_DEFAULTS,
          useFactory: ({ route }: IpMatchModuleOptions) => route ?? {},
          inject: [OPTIONS],
        },
        IpMatchRoutes,
        IpMatchGuard,
      ],
      exports: [IPMATCH_CORE, IpMatchRoutes, IpMatchGuard],
    };
  }
}
