/** The public shapes of the fake Vonage server: its options, behaviour switches, recorded requests and handle. */
import type { InsightName } from '../providers/identity-insights-schema.js';
import type { NiResponseJson } from '../providers/vonage-schema.js';

/** One insight of an answer as Vonage writes it; `status.code` is any of the per-insight codes. */
export type FakeInsight = Record<string, unknown> & { status?: { code: string; message?: string } };

/** Per-insight overrides, merged over what the fake generates (e.g. `{ roaming: { is_roaming: true, country_codes: ['ES'] } }`). */
export type FakeInsights = Partial<Record<InsightName | 'original_carrier', FakeInsight>>;

/** The claims of a JWT the fake accepted, as a test may check them (no signature, no key). */
export interface FakeJwtClaims {
  application_id: string;
  iat: number;
  exp: number;
  jti: string;
}

export type FakeVonageLevel = 'basic' | 'standard' | 'advanced';

/** Advanced's `roaming`: an object, or the bare string 'unknown' that Vonage also sends. */
export type FakeVonageRoaming =
  | 'unknown'
  | {
      status: 'roaming' | 'not_roaming' | 'unknown';
      roaming_country_code?: string | undefined;
      roaming_network_code?: string | undefined;
      roaming_network_name?: string | undefined;
    };

/** The deprecated `ip` object, in either vocabulary ('country'/'mismatch' or 'Country Level'/'Mismatch'). */
export interface FakeVonageLegacyIp {
  ip_match_level: string;
  ip_country?: string;
  ip_city?: string;
  /** Default: the `ip` the request sent. */
  address?: string;
}

/** One request as the fake saw it. Holds no secret: Authorization is reduced to `authorized` (and a JWT's claims). */
export interface FakeVonageRequest {
  method: string;
  /** The path without its query, e.g. '/ni/advanced/json' or '/identity-insights/v1/requests'. */
  path: string;
  /** Which API the path belongs to, or null for a path that is neither. */
  api: 'number-insight' | 'identity-insights' | null;
  /** The Number Insight level in the path, or null for a path that is not Number Insight. */
  level: FakeVonageLevel | null;
  /** An Identity Insights request's JSON body (`phone_number`, `purpose`, `insights`), or undefined. */
  body?: unknown;
  /** The claims of the request's JWT when the fake accepted it (Identity Insights), else null. */
  jwt: FakeJwtClaims | null;
  /** Query parameters (and form fields of a POST); an `api_secret` parameter is recorded as '[redacted]'. */
  query: Record<string, string>;
  /** Request headers, lower-cased, without `authorization`. */
  headers: Record<string, string>;
  /** Whether the credentials matched (for Identity Insights: a JWT signed with the fake's key, unexpired, for its application id). */
  authorized: boolean;
  /** Where the credentials came from: a Basic header, api_key/api_secret parameters (a leak into URLs), a Bearer JWT, or nowhere. */
  auth: 'header' | 'query' | 'bearer' | null;
}

/** How the fake answers. Each switch is settable at start, with `set()`, or per request from `fault()`. */
export interface FakeVonageBehaviour {
  /** Delay before each answer, in ms. Default 0. */
  latencyMs: number;
  /** Never answer; the socket stays open until the client gives up or `close()`. Default false. */
  hang: boolean;
  /** Destroy the socket instead of answering. Default false. */
  drop: boolean;
  /** Answer with this HTTP status (with `body`, or a small JSON problem). Default: 200. */
  httpStatus: number | undefined;
  /** Send this raw body with HTTP 200 (e.g. 'not json'). Default: the NI answer. */
  body: string | undefined;
  /** Send the NI answer cut in half (truncated JSON). Default false. */
  truncate: boolean;
  /** NI status: 0 is success, 43-45 partial data, anything else an error body. Identity Insights answers 1 (throttled) with HTTP 429. Default 0. */
  status: number;
  /** Advanced `roaming`. Default `{ status: 'not_roaming' }`. */
  roaming: FakeVonageRoaming;
  /** Legacy `ip` object, added to Advanced answers of requests that send `ip`. Default: none. */
  ip: FakeVonageLegacyIp | undefined;
  /** EUR left on the account; each billed answer draws its price from it. Default 10. */
  balance: number;
  /** Identity Insights: overrides of every number's insights (under `fake.insights(number, …)`). Default: none. */
  insights: FakeInsights;
  /** Identity Insights: the shape of HTTP error bodies, RFC 7807 `problem` or CAMARA `camara`. Default 'problem'. */
  errorShape: 'problem' | 'camara';
}

/** Probabilities (0..1, summing to at most 1) of a fault per request, drawn from a seeded generator. */
export interface FakeVonageFaultMix {
  hang?: number;
  drop?: number;
  http502?: number;
  truncated?: number;
  throttle?: number;
}

/** Each switch optional, and `undefined` accepted as unset (`exactOptionalPropertyTypes`). */
type Optional<T> = { [K in keyof T]?: T[K] | undefined };

export interface FakeVonageOptions extends Optional<FakeVonageBehaviour> {
  /** Credentials the fake accepts. Default 'test-key' / 'test-secret'; wrong ones get status 4. */
  apiKey?: string | undefined;
  apiSecret?: string | undefined;
  /** Per-request override of the behaviour, e.g. `(r) => r.query.number === '447700900001' ? { hang: true } : undefined`. */
  fault?: ((request: FakeVonageRequest) => Partial<FakeVonageBehaviour> | undefined) | undefined;
  /** Random faults, for chaos tests. Default: none. */
  faults?: FakeVonageFaultMix | undefined;
  /** Seed of the fault mix, so a failing chaos run replays. Default 1. */
  seed?: number | undefined;
  /** Answers per number (digits, '+' optional), merged over the generated answer. */
  answers?: Record<string, Partial<NiResponseJson>> | undefined;
  /** The Vonage application id whose JWTs Identity Insights accepts. Default '00000000-0000-4000-8000-00000000fa6e' (a UUID, as Vonage's are). */
  applicationId?: string | undefined;
}

export interface FakeVonage {
  /** Base URL to give `vonageProvider({ baseUrl })` or `identityInsightsProvider({ baseUrl })`, e.g. 'http://127.0.0.1:54321'. */
  readonly url: string;
  /** The application id to give `identityInsightsProvider({ applicationId })`. */
  readonly applicationId: string;
  /** PEM (PKCS#8) of the RSA private key whose JWTs the fake accepts: `identityInsightsProvider({ privateKey })`. */
  readonly privateKey: string;
  /** Requests received so far (Number Insight or not). */
  readonly calls: number;
  /** Every request received, oldest first. */
  readonly requests: readonly FakeVonageRequest[];
  /** Sockets opened so far (keep-alive reuse keeps this low). */
  readonly connections: number;
  /** Sockets open right now (idle keep-alive ones included). */
  readonly openConnections: number;
  /** Requests received and not yet answered whose client is still connected (hung ones, slow ones). */
  readonly inFlight: number;
  /** Changes the behaviour from now on; `undefined` clears a switch. */
  set(behaviour: Partial<FakeVonageBehaviour> & Pick<FakeVonageOptions, 'fault' | 'faults'>): void;
  /** Merges `response` over the generated answer for `number`; `null` removes it. */
  answer(number: string, response: Partial<NiResponseJson> | null): void;
  /**
   * Identity Insights: merges each insight of `insights` over the generated one for `number`, e.g.
   * `{ roaming: { is_roaming: true, country_codes: ['ES'] } }` or `{ roaming: { status: { code: 'NO_COVERAGE' } } }`;
   * `null` removes them.
   */
  insights(number: string, insights: FakeInsights | null): void;
  /** Back to the options given at start (behaviour and answers). */
  reset(): void;
  /** Closes idle and active sockets, hung ones included, and clears timers. */
  close(): Promise<void>;
}
