import { createPublicKey, generateKeyPair, type KeyObject, verify } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { IiResponseJson, InsightName } from '../providers/identity-insights-schema.js';

/** The path Identity Insights answers on. */
export const II_PATH = '/identity-insights/v1/requests';

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

/** An HTTP error body in either shape Vonage has been seen to send. */
export function errorBody(statusCode: number, title: string, shape: 'problem' | 'camara'): string {
  if (shape === 'camara') {
    const code = title
      .toUpperCase()
      .replace(/[^A-Z]+/g, '_')
      .replace(/^_|_$/g, '');
    return JSON.stringify({ status: statusCode, code, message: title });
  }
  return JSON.stringify({
    type: 'about:blank',
    title,
    detail: title,
    instance: `/identity-insights/${statusCode}`,
  });
}
