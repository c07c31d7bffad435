// `ipmatch/testing`: helpers for users' own tests of code that uses ipmatch.

export type { NiResponseJson } from '../providers/vonage-schema.js';
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
