import type { KeyObject } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import * as z from 'zod/mini';
import { parseOptions, wholeNumber } from '../core/validate.js';
import type { NiResponseJson } from '../providers/vonage-schema.js';
import {
  errorBody,
  type FakeInsights,
  type FakeJwtClaims,
  fakeKeyPair,
  II_PATH,
  iiAnswer,
  verifyJwt,
} from './fake-identity-insights.js';
import { seeded } from './seeded.js';

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

const LEVELS = ['basic', 'standard', 'advanced'] as const;
const PRICES: Record<FakeVonageLevel, number> = { basic: 0, standard: 0.005, advanced: 0.03 };
const MESSAGES: Record<number, string> = {
  0: 'Success',
  1: 'Throttled',
  3: 'Invalid request :: Invalid number format',
  4: 'Invalid credentials',
  5: 'Internal Error',
  9: 'Partner quota exceeded',
  19: 'Facility not allowed',
  43: 'Live mobile lookup not returned. Not all parameters are available.',
  44: 'Live mobile lookup not returned. Not all parameters are available.',
  45: 'Live mobile lookup not returned. Not all parameters are available.',
  999: 'Request unparseable',
};
const NETWORK_TYPES: Record<string, string> = {
  MOBILE: 'mobile',
  FIXED_LINE_OR_MOBILE: 'mobile',
  FIXED_LINE: 'landline',
  TOLL_FREE: 'landline_tollfree',
  PREMIUM_RATE: 'landline_premium',
  VOIP: 'virtual',
  PAGER: 'pager',
};
const DEFAULTS: FakeVonageBehaviour = {
  latencyMs: 0,
  hang: false,
  drop: false,
  httpStatus: undefined,
  body: undefined,
  truncate: false,
  status: 0,
  roaming: { status: 'not_roaming' },
  ip: undefined,
  balance: 10,
  insights: {},
  errorShape: 'problem',
};

const probability = z.optional(z.number().check(z.minimum(0), z.maximum(1)));
const nonEmpty = z.optional(z.string().check(z.minLength(1)));
const behaviourShape = {
  latencyMs: z.optional(z.number().check(z.minimum(0))),
  hang: z.optional(z.boolean()),
  drop: z.optional(z.boolean()),
  httpStatus: z.optional(wholeNumber(100, 599)),
  body: z.optional(z.string()),
  truncate: z.optional(z.boolean()),
  status: z.optional(wholeNumber(0)),
  roaming: z.optional(
    z.union([z.literal('unknown'), z.looseObject({ status: z.enum(['roaming', 'not_roaming', 'unknown']) })]),
  ),
  ip: z.optional(z.looseObject({ ip_match_level: z.string() })),
  balance: z.optional(z.number()),
  insights: z.optional(z.record(z.string(), z.looseObject({}))),
  errorShape: z.optional(z.enum(['problem', 'camara'])),
  fault: z.optional(
    z.custom<FakeVonageOptions['fault']>((v) => typeof v === 'function', 'expected a function'),
  ),
  faults: z.optional(
    z
      .strictObject({
        hang: probability,
        drop: probability,
        http502: probability,
        truncated: probability,
        throttle: probability,
      })
      .check(
        z.refine(
          (m) => Object.values(m).reduce((a, b) => a + (b ?? 0), 0) <= 1,
          'the probabilities must sum to at most 1',
        ),
      ),
  ),
};
const setSchema = z.strictObject(behaviourShape);
const optionsSchema = z.strictObject({
  ...behaviourShape,
  apiKey: nonEmpty,
  apiSecret: nonEmpty,
  seed: z.optional(z.number().check(z.int())),
  applicationId: nonEmpty,
  answers: z.optional(z.record(z.string(), z.looseObject({}))),
});

function fromMix(mix: FakeVonageFaultMix | undefined, random: () => number): Partial<FakeVonageBehaviour> {
  if (!mix) return {};
  let roll = random();
  const picks: [keyof FakeVonageFaultMix, Partial<FakeVonageBehaviour>][] = [
    ['hang', { hang: true }],
    ['drop', { drop: true }],
    ['http502', { httpStatus: 502 }],
    ['truncated', { truncate: true }],
    ['throttle', { status: 1 }],
  ];
  for (const [name, behaviour] of picks) {
    roll -= mix[name] ?? 0;
    if (roll < 0) return behaviour;
  }
  return {};
}

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
const digits = (n: string) => n.replace(/\D/g, '');

/** A Number Insight answer for `request`, shaped by its level; null when the number is not a number. */
function niAnswer(
  request: FakeVonageRequest,
  level: FakeVonageLevel,
  b: FakeVonageBehaviour,
): NiResponseJson | null {
  const raw = request.query.number ?? '';
  if (!/^[0-9-+()\s]+$/.test(raw)) return null;
  const country = request.query.country?.toUpperCase();
  const phone = raw.trim().startsWith('+')
    ? parsePhoneNumberFromString(raw)
    : (parsePhoneNumberFromString(`+${digits(raw)}`) ?? parsePhoneNumberFromString(raw, country as never));
  if (!phone?.isPossible()) return null;
  // Vonage names the main region even for a possible number outside every allocated range (+44 7700 900xxx).
  const region = phone.country ?? phone.getPossibleCountries()[0];
  const answer: NiResponseJson = {
    status: b.status,
    status_message: MESSAGES[b.status] ?? 'Error',
    request_id: randomUUID(),
    international_format_number: digits(phone.number),
    national_format_number: phone.formatNational(),
    country_prefix: phone.countryCallingCode,
  };
  if (region) {
    answer.country_code = region;
    answer.country_name = regionNames.of(region) ?? region;
  }
  if (level === 'basic') return answer;
  const carrier = {
    network_code: '00101',
    name: 'Fake Vonage Carrier',
    country: region ?? null,
    network_type: NETWORK_TYPES[phone.getType() ?? ''] ?? 'unknown',
  };
  Object.assign(answer, {
    request_price: PRICES[level].toFixed(8),
    refund_price: PRICES[level].toFixed(8),
    remaining_balance: b.balance.toFixed(8),
    current_carrier: carrier,
    original_carrier: carrier,
    ported: 'not_ported',
  });
  if (request.query.cnam === 'true' && phone.countryCallingCode === '1') {
    answer.caller_identity = {
      caller_type: 'consumer',
      caller_name: 'Jane Doe',
      first_name: 'Jane',
      last_name: 'Doe',
    };
  }
  if (level === 'standard') return answer;
  Object.assign(answer, {
    lookup_outcome: 0,
    lookup_outcome_message: 'Success',
    valid_number: phone.isValid() ? 'valid' : 'not_valid',
    reachable: 'reachable',
    roaming: b.roaming,
    ip_warnings: 'unknown',
  });
  if (b.ip && request.query.ip !== undefined) answer.ip = { address: request.query.ip, ip_city: '', ...b.ip };
  return answer;
}

/** How the fake checks credentials: NI's key and secret, Identity Insights' application and public key. */
interface Credentials {
  key: string;
  secret: string;
  applicationId: string;
  publicKey: KeyObject;
}

function record(req: IncomingMessage, form: string, c: Credentials): FakeVonageRequest {
  const url = new URL(req.url ?? '/', 'http://fake');
  if (url.pathname === II_PATH) return recordIi(req, form, c);
  const { key, secret } = c;
  const params = new URLSearchParams(form);
  for (const [k, v] of url.searchParams) params.set(k, v);
  const query = Object.fromEntries(params);
  const [, levelName] = /^\/ni\/(basic|standard|advanced)\/json$/.exec(url.pathname) ?? [];
  const level = LEVELS.find((l) => l === levelName) ?? null;
  const headers = headersOf(req);
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  let auth: FakeVonageRequest['auth'] = null;
  let authorized = false;
  if (basic !== undefined) {
    auth = 'header';
    authorized = Buffer.from(basic, 'base64').toString() === `${key}:${secret}`;
  } else if (query.api_key !== undefined || query.api_secret !== undefined) {
    auth = 'query';
    authorized = query.api_key === key && query.api_secret === secret;
  }
  if (query.api_secret !== undefined) query.api_secret = '[redacted]';
  const api = level === null ? null : 'number-insight';
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    api,
    level,
    jwt: null,
    query,
    headers,
    authorized,
    auth,
  };
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (k !== 'authorization' && v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return headers;
}

function recordIi(req: IncomingMessage, text: string, c: Credentials): FakeVonageRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {}
  const bearer = /^Bearer /i.test(req.headers.authorization ?? '');
  const jwt = verifyJwt(
    req.headers.authorization,
    c.publicKey,
    c.applicationId,
    Math.floor(Date.now() / 1000),
  );
  return {
    method: req.method ?? 'POST',
    path: II_PATH,
    api: 'identity-insights',
    level: null,
    body,
    jwt,
    query: {},
    headers: headersOf(req),
    authorized: jwt !== null,
    auth: bearer ? 'bearer' : null,
  };
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Starts a real HTTP server on 127.0.0.1 that speaks Number Insight v1 and Identity Insights JSON, for tests of
 * code that uses `vonageProvider` or `identityInsightsProvider`. It checks Basic auth and JWTs (signed with the
 * key pair it exposes), derives each number's country with libphonenumber-js, and can be told to be slow, hang,
 * drop connections, answer any HTTP, NI or per-insight status, or fail at random.
 */
export async function startFakeVonage(options: FakeVonageOptions = {}): Promise<FakeVonage> {
  const start = parseOptions(optionsSchema, options, 'startFakeVonage options') as FakeVonageOptions;
  const { privateKey, publicKey } = await fakeKeyPair();
  const credentials: Credentials = {
    key: start.apiKey ?? 'test-key',
    secret: start.apiSecret ?? 'test-secret',
    applicationId: start.applicationId ?? '00000000-0000-4000-8000-00000000fa6e',
    publicKey,
  };
  const random = seeded(start.seed ?? 1);
  let behaviour: FakeVonageBehaviour = { ...DEFAULTS };
  let fault: FakeVonageOptions['fault'];
  let faults: FakeVonageFaultMix | undefined;
  const answers = new Map<string, Partial<NiResponseJson>>();
  const insights = new Map<string, FakeInsights>();
  const requests: FakeVonageRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let connections = 0;
  let inFlight = 0;

  function apply(patch: Partial<FakeVonageBehaviour> & Pick<FakeVonageOptions, 'fault' | 'faults'>): void {
    const { fault: f, faults: mix, ...rest } = patch;
    if ('fault' in patch) fault = f;
    if ('faults' in patch) faults = mix;
    behaviour = { ...behaviour, ...rest };
  }

  function reset(): void {
    behaviour = { ...DEFAULTS };
    fault = undefined;
    faults = undefined;
    answers.clear();
    insights.clear();
    const { apiKey, apiSecret, seed, answers: initial, applicationId, ...rest } = start;
    apply(rest);
    for (const [n, a] of Object.entries(initial ?? {})) answers.set(digits(n), a);
  }
  reset();

  function respond(req: IncomingMessage, res: ServerResponse, form: string): void {
    const request = record(req, form, credentials);
    requests.push(request);
    inFlight++;
    res.once('close', () => inFlight--);
    const b: FakeVonageBehaviour = { ...behaviour, ...fromMix(faults, random), ...fault?.(request) };
    if (b.hang) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (b.drop) return void req.socket.destroy();
      if (b.httpStatus !== undefined && b.httpStatus !== 200) {
        const problem = errorBody(b.httpStatus, STATUS_CODES[b.httpStatus] ?? 'Error', b.errorShape);
        return send(res, b.httpStatus, b.body ?? problem);
      }
      if (b.body !== undefined) return send(res, 200, b.body);
      if (request.api === 'identity-insights') return respondIi(res, request, b);
      if (request.level === null) return send(res, 404, JSON.stringify({ title: 'Not Found' }));
      let answer: NiResponseJson | null = {
        status: 4,
        status_message: MESSAGES[4],
        request_id: randomUUID(),
      };
      if (request.authorized) answer = niAnswer(request, request.level, b);
      if (answer === null) answer = { status: 3, status_message: MESSAGES[3], request_id: randomUUID() };
      const billed = [0, 43, 44, 45].includes(answer.status as number);
      if (request.authorized && !billed)
        answer = {
          status: answer.status,
          status_message: answer.status_message,
          request_id: answer.request_id,
        };
      if (request.authorized && billed) {
        // A partial answer (43-45) lacks the live fields.
        if (answer.status !== 0) for (const k of ['roaming', 'reachable', 'lookup_outcome']) delete answer[k];
        Object.assign(answer, answers.get(digits(request.query.number ?? '')));
        behaviour.balance -= PRICES[request.level];
      }
      const json = JSON.stringify(answer);
      send(res, 200, b.truncate ? json.slice(0, Math.floor(json.length / 2)) : json);
    }, b.latencyMs);
    timers.add(timer);
  }

  /** Identity Insights: 401 without a valid JWT, 400 for a body that is not a request, else the insights. */
  function respondIi(res: ServerResponse, request: FakeVonageRequest, b: FakeVonageBehaviour): void {
    const fail = (status: number, title: string) => send(res, status, errorBody(status, title, b.errorShape));
    if (!request.authorized) return void fail(401, 'Invalid or expired JWT');
    if (b.status === 1) return void fail(429, 'Too Many Requests');
    const number = (request.body as { phone_number?: unknown } | undefined)?.phone_number;
    const own = typeof number === 'string' ? insights.get(digits(number)) : undefined;
    const merged: FakeInsights = { ...b.insights };
    for (const [name, insight] of Object.entries(own ?? {})) {
      merged[name as keyof FakeInsights] = { ...merged[name as keyof FakeInsights], ...insight };
    }
    const answer = iiAnswer(request.body, merged, randomUUID());
    if (answer === null) return void fail(400, 'Bad Request');
    const json = JSON.stringify(answer);
    send(res, 200, b.truncate ? json.slice(0, Math.floor(json.length / 2)) : json);
  }

  const server = createServer((req, res) => {
    let form = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      if (form.length < 65_536) form += chunk;
    });
    req.on('end', () => respond(req, res, req.method === 'POST' ? form : ''));
  });
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    applicationId: credentials.applicationId,
    privateKey,
    get calls() {
      return requests.length;
    },
    requests,
    get connections() {
      return connections;
    },
    get openConnections() {
      return sockets.size;
    },
    get inFlight() {
      return inFlight;
    },
    set(patch) {
      apply(parseOptions(setSchema, patch, 'fake.set()') as typeof patch);
    },
    answer(number, response) {
      if (response === null) answers.delete(digits(number));
      else answers.set(digits(number), response);
    },
    insights(number, overrides) {
      if (overrides === null) insights.delete(digits(number));
      else insights.set(digits(number), overrides);
    },
    reset,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = [new Promise<void>((resolve) => server.close(() => resolve()))];
      for (const s of sockets) {
        closed.push(new Promise<void>((resolve) => s.once('close', () => resolve())));
        s.destroy();
      }
      await Promise.all(closed);
    },
  };
}
