/** The fake's Identity Insights: JWT checks against its key pair, generated insights, a test's overrides. */
import { createPublicKey, generateKeyPair, type KeyObject, randomUUID, verify } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { IiResponseJson } from '../providers/identity-insights-schema.js';
import { digits, errorBody, type FakeAnswer, type FakeApi, headersOf } from './fake-server.js';
import type { FakeInsight, FakeInsights, FakeJwtClaims, FakeVonageRequest } from './fake-vonage-types.js';

/** The path Identity Insights answers on. */
export const II_PATH = '/identity-insights/v1/requests';

/** Every per-insight status code Vonage documents, with its message. */
export const INSIGHT_STATUSES: Record<string, string> = {
  OK: 'Success',
  PARTIAL_SUCCESS: 'Partial success',
  INVALID_NUMBER_FORMAT: 'Invalid number format',
  UNSUPPORTED_NETWORK_TYPE: 'Unsupported network type',
  NO_COVERAGE: 'No coverage for this number',
  NOT_FOUND: 'Not found',
  UNAUTHORIZED: 'Not authorized for this insight',
  INVALID_PURPOSE: 'Invalid purpose',
  SUPPLIER_ERROR: 'Supplier error',
  INTERNAL_ERROR: 'Internal error',
};

const NETWORK_TYPES: Record<string, string> = {
  MOBILE: 'MOBILE',
  FIXED_LINE_OR_MOBILE: 'MOBILE',
  FIXED_LINE: 'LANDLINE',
  TOLL_FREE: 'TOLLFREE',
  PREMIUM_RATE: 'PREMIUM',
  VOIP: 'VIRTUAL',
};
const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

/** One RSA key pair per process: generating one takes a while, and tests start many fakes. */
let keys: Promise<{ privateKey: string; publicKey: KeyObject }> | undefined;
export function fakeKeyPair(): Promise<{ privateKey: string; publicKey: KeyObject }> {
  keys ??= new Promise((resolve, reject) => {
    generateKeyPair(
      'rsa',
      {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      },
      (error, publicKey, privateKey) =>
        error ? reject(error) : resolve({ privateKey, publicKey: createPublicKey(publicKey) }),
    );
  });
  return keys;
}

const decodePart = (part: string): unknown => JSON.parse(Buffer.from(part, 'base64url').toString());

/** The claims of a valid `Bearer` JWT for `applicationId`, or null: bad signature, expired, other application. */
export function verifyJwt(
  authorization: string | undefined,
  publicKey: KeyObject,
  applicationId: string,
  nowS: number,
): FakeJwtClaims | null {
  const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
  const [header, payload, signature, ...rest] = token?.split('.') ?? [];
  if (!header || !payload || !signature || rest.length > 0) return null;
  try {
    if ((decodePart(header) as { alg?: unknown }).alg !== 'RS256') return null;
    const signed = Buffer.from(`${header}.${payload}`);
    if (!verify('sha256', signed, publicKey, Buffer.from(signature, 'base64url'))) return null;
    const claims = decodePart(payload) as Partial<FakeJwtClaims>;
    if (claims.application_id !== applicationId || typeof claims.jti !== 'string') return null;
    if (typeof claims.exp !== 'number' || claims.exp <= nowS) return null;
    if (typeof claims.iat !== 'number' || claims.iat > nowS + 60) return null;
    return claims as FakeJwtClaims;
  } catch {
    return null;
  }
}

const status = (code: string) => ({ code, message: INSIGHT_STATUSES[code] ?? code });

/**
 * The answer to an Identity Insights request body: each insight asked for, generated from the number with
 * libphonenumber-js, then `overrides` merged over it. Null when the body is not a request (a 400).
 */
export function iiAnswer(body: unknown, overrides: FakeInsights, requestId: string): IiResponseJson | null {
  const { phone_number: number, insights: asked } = (body ?? {}) as {
    phone_number?: unknown;
    insights?: unknown;
  };
  if (typeof number !== 'string' || typeof asked !== 'object' || asked === null) return null;
  const names = Object.keys(asked);
  if (names.length === 0) return null;
  const phone = /^\+?[1-9]\d{4,15}$/.test(number)
    ? parsePhoneNumberFromString(`+${number.replace(/^\+/, '')}`)
    : undefined;
  const region = phone?.isPossible() ? (phone.country ?? phone.getPossibleCountries()[0]) : undefined;
  const carrier = {
    name: 'Fake Vonage Carrier',
    network_type: NETWORK_TYPES[phone?.getType() ?? ''] ?? 'MOBILE',
    country_code: region ?? null,
    network_code: '00101',
    status: status('OK'),
  };
  const generated: Record<string, FakeInsight> = {
    format: {
      country_code: region ?? null,
      country_name: region ? (regionNames.of(region) ?? region) : null,
      country_prefix: phone?.countryCallingCode ?? null,
      number_international: phone?.number ?? null,
      number_national: phone?.formatNational() ?? null,
      is_format_valid: phone?.isValid() ?? false,
      time_zones: [],
      offline_location: region ? (regionNames.of(region) ?? region) : null,
      status: status('OK'),
    },
    current_carrier: carrier,
    original_carrier: carrier,
    roaming: {
      is_roaming: false,
      country_codes: [],
      latest_status_at: new Date().toISOString(),
      status: status('OK'),
    },
    sim_swap: { is_swapped: false, latest_sim_swap_at: null, status: status('OK') },
  };
  const insights: Record<string, FakeInsight> = {};
  for (const name of names) {
    if (!region) {
      insights[name] = { status: status('INVALID_NUMBER_FORMAT') };
      continue;
    }
    const override = overrides[name as keyof FakeInsights];
    const base = generated[name] ?? { status: status('OK') };
    const code = override?.status?.code;
    // A failed insight carries its status and nothing else, as Vonage sends it.
    insights[name] =
      code !== undefined && !/^(ok|partial_success)$/i.test(code)
        ? {
            status: {
              code,
              message: override?.status?.message ?? INSIGHT_STATUSES[code.toUpperCase()] ?? code,
            },
          }
        : { ...base, ...override, status: override?.status ?? base.status };
  }
  return { request_id: requestId, insights } as IiResponseJson;
}

export interface IdentityInsightsSetup {
  /** The application whose JWTs it accepts, and the public key they must be signed for. */
  applicationId: string;
  publicKey: KeyObject;
  /** A test's insights per number (by digits), merged over the behaviour's `insights`. */
  insights: ReadonlyMap<string, FakeInsights>;
}

/** The Identity Insights API on II_PATH: a JSON body, a Bearer JWT, one answer per insight asked for. */
export function identityInsights({ applicationId, publicKey, insights }: IdentityInsightsSetup): FakeApi {
  return {
    record(req: IncomingMessage, _url: URL, text: string): FakeVonageRequest {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {}
      const bearer = /^Bearer /i.test(req.headers.authorization ?? '');
      const jwt = verifyJwt(
        req.headers.authorization,
        publicKey,
        applicationId,
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
    },

    /** 401 without a valid JWT, 429 when throttled (status 1), 400 for a body that is not a request. */
    answer(request, b): FakeAnswer {
      const fail = (status: number, title: string) => ({
        status,
        body: errorBody(status, title, b.errorShape),
      });
      if (!request.authorized) return fail(401, 'Invalid or expired JWT');
      if (b.status === 1) return fail(429, 'Too Many Requests');
      const number = (request.body as { phone_number?: unknown } | undefined)?.phone_number;
      const own = typeof number === 'string' ? insights.get(digits(number)) : undefined;
      const merged: FakeInsights = { ...b.insights };
      for (const [name, insight] of Object.entries(own ?? {})) {
        merged[name as keyof FakeInsights] = { ...merged[name as keyof FakeInsights], ...insight };
      }
      const answer = iiAnswer(request.body, merged, randomUUID());
      if (answer === null) return fail(400, 'Bad Request');
      return { status: 200, body: JSON.stringify(answer) };
    },
  };
}
