import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { z } from 'zod';
import { parseOptions } from '../core/validate.js';
import type { NiResponseJson } from '../providers/vonage-schema.js';

export type FakeVonageLevel = 'basic' | 'standard' | 'advanced';

/** Advanced's `roaming`: an object, or the bare string 'unknown' that Vonage also sends. */
export type FakeVonageRoaming =
  | 'unknown'
  | {
      status: 'roaming' | 'not_roaming' | 'unknown';
      roaming_country_code?: string;
      roaming_network_code?: string;
      roaming_network_name?: string;
    };

/** The deprecated `ip` object, in either vocabulary ('country'/'mismatch' or 'Country Level'/'Mismatch'). */
export interface FakeVonageLegacyIp {
  ip_match_level: string;
  ip_country?: string;
  ip_city?: string;
  /** Default: the `ip` the request sent. */
  address?: string;
}

/** One request as the fake saw it. Holds no secret: Authorization is reduced to `authorized`. */
export interface FakeVonageRequest {
  method: string;
  /** The path without its query, e.g. '/ni/advanced/json'. */
  path: string;
  /** The level in the path, or null for a path that is not Number Insight. */
  level: FakeVonageLevel | null;
  /** Query parameters (and form fields of a POST); an `api_secret` parameter is recorded as '[redacted]'. */
  query: Record<string, string>;
  /** Request headers, lower-cased, without `authorization`. */
  headers: Record<string, string>;
  /** Whether the credentials matched. */
  authorized: boolean;
  /** Where the credentials came from: a Basic header, api_key/api_secret parameters (a leak into URLs), or nowhere. */
  auth: 'header' | 'query' | null;
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
  /** NI status: 0 is success, 43-45 partial data, anything else an error body. Default 0. */
  status: number;
  /** Advanced `roaming`. Default `{ status: 'not_roaming' }`. */
  roaming: FakeVonageRoaming;
  /** Legacy `ip` object, added to Advanced answers of requests that send `ip`. Default: none. */
  ip: FakeVonageLegacyIp | undefined;
  /** EUR left on the account; each billed answer draws its price from it. Default 10. */
  balance: number;
}

/** Probabilities (0..1, summing to at most 1) of a fault per request, drawn from a seeded generator. */
export interface FakeVonageFaultMix {
  hang?: number;
  drop?: number;
  http502?: number;
  truncated?: number;
  throttle?: number;
}

export interface FakeVonageOptions extends Partial<FakeVonageBehaviour> {
  /** Credentials the fake accepts. Default 'test-key' / 'test-secret'; wrong ones get status 4. */
  apiKey?: string;
  apiSecret?: string;
  /** Per-request override of the behaviour, e.g. `(r) => r.query.number === '447700900001' ? { hang: true } : undefined`. */
  fault?: (request: FakeVonageRequest) => Partial<FakeVonageBehaviour> | undefined;
  /** Random faults, for chaos tests. Default: none. */
  faults?: FakeVonageFaultMix;
  /** Seed of the fault mix, so a failing chaos run replays. Default 1. */
  seed?: number;
  /** Answers per number (digits, '+' optional), merged over the generated answer. */
  answers?: Record<string, Partial<NiResponseJson>>;
}

export interface FakeVonage {
  /** Base URL to give `vonageProvider({ baseUrl })`, e.g. 'http://127.0.0.1:54321'. */
  readonly url: string;
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
};

const probability = z.number().min(0).max(1).optional();
const behaviourShape = {
  latencyMs: z.number().min(0).optional(),
  hang: z.boolean().optional(),
  drop: z.boolean().optional(),
  httpStatus: z.number().int().min(100).max(599).optional(),
  body: z.string().optional(),
  truncate: z.boolean().optional(),
  status: z.number().int().min(0).optional(),
  roaming: z
    .union([z.literal('unknown'), z.looseObject({ status: z.enum(['roaming', 'not_roaming', 'unknown']) })])
    .optional(),
  ip: z.looseObject({ ip_match_level: z.string() }).optional(),
  balance: z.number().optional(),
  fault: z
    .custom<FakeVonageOptions['fault']>((v) => typeof v === 'function', 'expected a function')
    .optional(),
  faults: z
    .strictObject({
      hang: probability,
      drop: probability,
      http502: probability,
      truncated: probability,
      throttle: probability,
    })
    .refine(
      (m) => Object.values(m).reduce((a, b) => a + (b ?? 0), 0) <= 1,
      'the probabilities must sum to at most 1',
    )
    .optional(),
};
const setSchema = z.strictObject(behaviourShape);
const optionsSchema = z.strictObject({
  ...behaviourShape,
  apiKey: z.string().min(1).optional(),
  apiSecret: z.string().min(1).optional(),
  seed: z.number().int().optional(),
  answers: z.record(z.string(), z.looseObject({})).optional(),
});

/** mulberry32: a tiny seeded generator, so a chaos run's faults replay from its seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

function record(req: IncomingMessage, form: string, key: string, secret: string): FakeVonageRequest {
  const url = new URL(req.url ?? '/', 'http://fake');
  const params = new URLSearchParams(form);
  for (const [k, v] of url.searchParams) params.set(k, v);
  const query = Object.fromEntries(params);
  const [, levelName] = /^\/ni\/(basic|standard|advanced)\/json$/.exec(url.pathname) ?? [];
  const level = LEVELS.find((l) => l === levelName) ?? null;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (k !== 'authorization' && v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  }
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
  return { method: req.method ?? 'GET', path: url.pathname, level, query, headers, authorized, auth };
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Starts a real HTTP server on 127.0.0.1 that speaks Number Insight v1 JSON, for tests of code that uses
 * `vonageProvider`. It checks Basic auth, derives each number's country with libphonenumber-js, and can be
 * told to be slow, hang, drop connections, answer any HTTP or NI status, or fail at random.
 */
export async function startFakeVonage(options: FakeVonageOptions = {}): Promise<FakeVonage> {
  const start = parseOptions(optionsSchema, options, 'startFakeVonage options') as FakeVonageOptions;
  const key = start.apiKey ?? 'test-key';
  const secret = start.apiSecret ?? 'test-secret';
  const random = seeded(start.seed ?? 1);
  let behaviour: FakeVonageBehaviour = { ...DEFAULTS };
  let fault: FakeVonageOptions['fault'];
  let faults: FakeVonageFaultMix | undefined;
  const answers = new Map<string, Partial<NiResponseJson>>();
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
    const { apiKey, apiSecret, seed, answers: initial, ...rest } = start;
    apply(rest);
    for (const [n, a] of Object.entries(initial ?? {})) answers.set(digits(n), a);
  }
  reset();

  function respond(req: IncomingMessage, res: ServerResponse, form: string): void {
    const request = record(req, form, key, secret);
    requests.push(request);
    inFlight++;
    res.once('close', () => inFlight--);
    const b: FakeVonageBehaviour = { ...behaviour, ...fromMix(faults, random), ...fault?.(request) };
    if (b.hang) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (b.drop) return void req.socket.destroy();
      if (b.httpStatus !== undefined && b.httpStatus !== 200) {
        const problem = JSON.stringify({ type: 'about:blank', title: STATUS_CODES[b.httpStatus] ?? 'Error' });
        return send(res, b.httpStatus, b.body ?? problem);
      }
      if (b.body !== undefined) return send(res, 200, b.body);
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
