/** ipmatch/nestjs: IpMatchModule, IpMatchGuard, @IpMatchRoute and @IpMatchDecision for Nest on Express or Fastify. */
export * from '../shared/core-exports.js';
export {
  IPMATCH_ROUTE,
  IpMatchDecision,
  IpMatchRoute,
  type IpMatchRouteOptions,
  type NestHttpRequest,
  type OnBlock,
} from './decorators.js';
export { IpMatchGuard } from './guard.js';
export { IpMatchModule, type IpMatchModuleAsyncOptions, type IpMatchModuleOptions } from './module.js';
export { IPMATCH_CORE, IpMatchRoutes } from './routes.js';
