/** `ipmatch/testing`: helpers for users' own tests of code that uses ipmatch (the fake Vonage server). */

export type { IiResponseJson } from '../providers/identity-insights-schema.js';
export type { NiResponseJson } from '../providers/vonage-schema.js';
export { INSIGHT_STATUSES } from './fake-identity-insights.js';
export { startFakeVonage } from './fake-vonage.js';
export type {
  FakeInsight,
  FakeInsights,
  FakeJwtClaims,
  FakeVonage,
  FakeVonageBehaviour,
  FakeVonageFaultMix,
  FakeVonageLegacyIp,
  FakeVonageLevel,
  FakeVonageOptions,
  FakeVonageRequest,
  FakeVonageRoaming,
} from './fake-vonage-types.js';
