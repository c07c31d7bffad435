/** The fake's Number Insight v1: Basic or query credentials, answers by level from libphonenumber-js, billing. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { NiResponseJson } from '../providers/vonage-schema.js';
import { digits, type FakeApi, headersOf } from './fake-server.js';
import type { FakeVonageBehaviour, FakeVonageLevel, FakeVonageRequest } from './fake-vonage-types.js';

const LEVELS = ['basic', 'standard', 'advanced'] as const;
/** EUR per answer, drawn from the behaviour's `balance`. */
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
/** The statuses Vonage bills: success and the partial answers. */
const BILLED = [0, 43, 44, 45];

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

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

export interface NumberInsightSetup {
  /** The credentials it accepts. */
  key: string;
  secret: string;
  /** A test's answers per number (by digits), merged over each billed answer. */
  answers: ReadonlyMap<string, Partial<NiResponseJson>>;
  /** Draws a billed answer's price (EUR) from the account. */
  charge(price: number): void;
}

/**
 * The Number Insight API on `/ni/{basic,standard,advanced}/json`. Any other path is recorded here too (with
 * `api: null`, so the harness answers 404), which keeps a credential sent to a wrong path visible to a test.
 */
export function numberInsight({ key, secret, answers, charge }: NumberInsightSetup): FakeApi {
  return {
    record(req: IncomingMessage, url: URL, form: string): FakeVonageRequest {
      const params = new URLSearchParams(form);
      for (const [k, v] of url.searchParams) params.set(k, v);
      const query = Object.fromEntries(params);
      const [, levelName] = /^\/ni\/(basic|standard|advanced)\/json$/.exec(url.pathname) ?? [];
      const level = LEVELS.find((l) => l === levelName) ?? null;
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
      return {
        method: req.method ?? 'GET',
        path: url.pathname,
        api: level === null ? null : 'number-insight',
        level,
        jwt: null,
        query,
        headers: headersOf(req),
        authorized,
        auth,
      };
    },

    /** Status 4 without the credentials, 3 for a number that is not one; an unbilled status has no data. */
    answer(request, b) {
      const level = request.level ?? 'basic'; // never null: the harness answers a path of no API itself
      let answer: NiResponseJson | null = {
        status: 4,
        status_message: MESSAGES[4],
        request_id: randomUUID(),
      };
      if (request.authorized) answer = niAnswer(request, level, b);
      if (answer === null) answer = { status: 3, status_message: MESSAGES[3], request_id: randomUUID() };
      const billed = BILLED.includes(answer.status as number);
      if (request.authorized && !billed) {
        const { status, status_message, request_id } = answer;
        answer = { status, status_message, request_id };
      }
      if (request.authorized && billed) {
        // A partial answer (43-45) lacks the live fields.
        if (answer.status !== 0) for (const k of ['roaming', 'reachable', 'lookup_outcome']) delete answer[k];
        Object.assign(answer, answers.get(digits(request.query.number ?? '')));
        charge(PRICES[level]);
      }
      return { status: 200, body: JSON.stringify(answer) };
    },
  };
}
