/** The 'ipmatch' entry point: the core, the providers, the updater and the observers, with their types. */
import { updateDatabase } from './data/update-database.js';
import {
  type LocalProvider,
  type LocalProviderOptions,
  localProvider as offlineProvider,
} from './providers/local.js';

export { IpMatchConfigError, ProviderError } from './core/errors.js';
export type { CacheOptions, IpMatchOptions } from './core/options.js';
export type {
  IpMatchProvider,
  LookupRequest,
  ParsedPhone,
  PhoneLookup,
  ProviderContext,
} from './core/provider.js';
export type { PhoneCountries } from './core/signal-source.js';
export type { DistinctOp, Store } from './core/store.js';
export type {
  Action,
  CheckInput,
  CostFacts,
  DecisionContext,
  IpFacts,
  IpMatch,
  IpMatchDecision,
  Logger,
  MatchLevel,
  MatchResult,
  Mode,
  OnDecision,
  PhoneFacts,
  PhoneType,
  Policy,
  PolicyMap,
  Reason,
  Signal,
  VelocityCounts,
} from './core/types.js';
export { createIpMatch } from './create-ip-match.js';
export type { FeedUpdate } from './data/nature-feed.js';
export type { NatureUpdateResult } from './data/nature-update.js';
export type { UpdateOptions, UpdateResult } from './data/update.js';
export { updateDatabase } from './data/update-database.js';
export { type DataErrorCode, IpMatchDataError } from './geodata/errors.js';
export type { FeedName } from './geodata/nature/types.js';
export type { DataSource } from './geodata/sources.js';
export { combineDecisionHandlers } from './observe/combine.js';
export type { DecisionLine } from './observe/decision-line.js';
export {
  type DecisionLog,
  type DecisionLogOptions,
  decisionLog,
  type InfoLogger,
  type WritableDestination,
} from './observe/decision-log.js';
export type { GeoIpInfo, GeoIpOrigin } from './providers/geoip/index.js';
export {
  type IdentityInsightsProviderOptions,
  identityInsightsProvider,
} from './providers/identity-insights.js';
export type { LocalProvider, LocalProviderOptions } from './providers/local.js';
export type { LookupBudgetOptions } from './providers/lookup-budget.js';
export type { RemoteProviderOptions } from './providers/remote-options.js';
export { type VonageLevel, type VonageProviderOptions, vonageProvider } from './providers/vonage.js';

/**
 * The offline default: the phone's country from libphonenumber-js, the IP's from an MMDB read in-process.
 * No account, no network: a check costs microseconds. With `autoUpdate`, `updateDatabase` runs on a timer.
 */
export function localProvider(options?: LocalProviderOptions): LocalProvider {
  // The entry point hands the updater to the provider, so that providers/ and data/ never import each other.
  return offlineProvider(options, updateDatabase);
}
