// `ipmatch/testing`: helpers for users' own tests of code that uses ipmatch.

export type { IiResponseJson } from '../providers/identity-insights-schema.js';
export type { NiResponseJson } from '../providers/vonage-schema.js';
export type { FakeInsight, FakeInsights, FakeJwtClaims } from './fake-identity-insights.js';
export { INSIGHT_STATUSES } from './fake-identity-insights.js';
export type {
  FakeVonage,
  FakeVonageBehaviour,
  FakeVonageFaultMix,
  FakeVonageLegacyIp,
  FakeVonageLevel,
  FakeVonageOptions,
  FakeVonageRequest,
  FakeVonageRoaming,
} from './fake-vonage.js';
export { startFakeVonage } from './fake-vonage.js';
