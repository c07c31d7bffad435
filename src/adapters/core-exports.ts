// What every adapter entry point (`ipmatch/express`, `ipmatch/koa`) re-exports of the core, so that a routes
// file needs one import. Kept in one place so that the entry points cannot drift apart.

export { IpMatchConfigError } from '../core/errors.js';
export { createIpMatch } from '../core/ipmatch.js';
export type { IpMatchOptions } from '../core/options.js';
export type {
  Action,
  IpMatch,
  IpMatchDecision,
  Logger,
  MatchLevel,
  MatchResult,
  Mode,
  Policy,
  PolicyMap,
  Reason,
} from '../core/types.js';
export type { BlockBody, InvalidPhoneBody } from './route.js';
