import { describe, expect, it } from 'vitest';
import {
  describeSchemaFailure,
  niResponseSchema,
  statusError,
  statusOutcome,
  toPhoneLookup,
} from '../../src/providers/vonage-schema.js';

/** The seed's Advanced answer: a GB phone seen from a KR IP. */
const seed = {
  status: 0,
  status_message: 'Success',
  lookup_outcome: 1,
  lookup_outcome_message: 'Partial success - some fields populated',
  request_id: '0aad8f5f-1ff4-404b-9dc2-6fc47737a668',
  international_format_number: '447700900001',
  national_format_number: '07700 900001',
  country_code: 'GB',
  country_code_iso3: 'GBR',
  country_name: 'United Kingdom',
  country_prefix: '44',
  request_price: '0.03000000',
  remaining_balance: '5.00',
  current_carrier: {
    network_code: '23410',
    name: 'Telefonica UK Limited',
    country: 'GB',
    network_type: 'mobile',
  },
  original_carrier: {
    network_code: '23410',
    name: 'Telefonica UK Limited',
    country: 'GB',
    network_type: 'mobile',
  },
  valid_number: 'valid',
  reachable: 'reachable',
  ported: 'not_ported',
  roaming: { status: 'not_roaming' },
  ip: { address: '123.0.0.255', ip_match_level: 'mismatch', ip_country: 'KR', ip_city: '' },
  ip_warnings: 'unknown',
};

const lookupOf = (body: object, cnam = false) => toPhoneLookup(niResponseSchema.parse(body), { cnam });

describe('Number Insight response schema', () => {
  it("turns the seed's answer into phone facts, cost and the legacy ip match", () => {
    expect(lookupOf(seed)).toEqual({
      country: 'GB',
      roamingCountry: null,
      facts: {
        carrier: 'Telefonica UK Limited',
        networkType: 'mobile',
        valid: true,
        reachable: 'reachable',
        ported: 'not_ported',
      },
      cost: { price: '0.03000000', currency: 'EUR', remainingBalance: '5.00' },
      legacyIp: { matchLevel: 'mismatch', country: 'KR' },
    });
  });

  it('reads roaming as an object, as the string "unknown" and as {status: "unknown"}', () => {
    const roamingIn = (roaming: unknown) => lookupOf({ ...seed, roaming }).roamingCountry;
    expect(roamingIn({ status: 'roaming', roaming_country_code: 'fr', roaming_network_code: '20801' })).toBe(
      'FR',
    );
    expect(roamingIn({ status: 'not_roaming', roaming_country_code: 'FR' })).toBeNull();
    expect(roamingIn('unknown')).toBeNull();
    expect(roamingIn({ status: 'unknown' })).toBeNull();
    expect(roamingIn({ status: 'roaming' })).toBeNull();
    expect(roamingIn(null)).toBeNull();
  });

  it('reads the legacy ip_match_level in both vocabularies', () => {
    const level = (ip_match_level: string) =>
      lookupOf({ ...seed, ip: { ip_match_level, ip_country: 'gb' } }).legacyIp;
    expect(level('country')).toEqual({ matchLevel: 'country', country: 'GB' });
    expect(level('Country Level')).toEqual({ matchLevel: 'country', country: 'GB' });
    expect(level('mismatch')).toEqual({ matchLevel: 'mismatch', country: 'GB' });
    expect(level('Mismatch')).toEqual({ matchLevel: 'mismatch', country: 'GB' });
    expect(level('unknown')).toEqual({ matchLevel: 'unknown', country: 'GB' });
    const { ip: _, ...withoutIp } = seed;
    expect(lookupOf(withoutIp).legacyIp).toBeUndefined();
    expect(lookupOf({ ...seed, ip: 'unknown' }).legacyIp).toBeUndefined();
  });

  it('maps valid_number onto valid: true, false or unknown', () => {
    const valid = (valid_number: string) => lookupOf({ ...seed, valid_number }).facts?.valid;
    expect(valid('valid')).toBe(true);
    expect(valid('inferred')).toBe(true);
    expect(valid('not_valid')).toBe(false);
    expect(valid('inferred_not_valid')).toBe(false);
    expect(valid('unknown')).toBeUndefined();
  });

  it('reads "null", "" and null carriers as no value', () => {
    const facts = lookupOf({
      ...seed,
      current_carrier: { network_code: null, name: '', country: null, network_type: 'null' },
      reachable: 'null',
      ported: null,
    }).facts;
    expect(facts).toEqual({ carrier: null, networkType: null, valid: true, reachable: null, ported: null });
    expect(lookupOf({ ...seed, current_carrier: null }).facts).toMatchObject({
      carrier: null,
      networkType: null,
    });
  });

  it('a Basic answer has the country and no carrier facts or cost', () => {
    const basic = {
      status: 0,
      status_message: 'Success',
      request_id: 'x',
      international_format_number: '33612345678',
      national_format_number: '06 12 34 56 78',
      country_code: 'FR',
      country_prefix: '33',
    };
    expect(lookupOf(basic)).toEqual({ country: 'FR', roamingCountry: null });
  });

  it('tolerates extra fields, numeric prices and a string status', () => {
    const parsed = niResponseSchema.parse({
      ...seed,
      status: '0',
      request_price: 0.03,
      brand_new_field: { a: 1 },
    });
    expect(parsed.status).toBe(0);
    expect(toPhoneLookup(parsed, { cnam: false }).cost?.price).toBe('0.03');
  });

  it('puts the caller identity on the facts only when cnam was asked for', () => {
    const body = {
      ...seed,
      caller_identity: {
        caller_type: 'consumer',
        caller_name: 'Jane Doe',
        first_name: 'Jane',
        last_name: 'Doe',
      },
    };
    expect(lookupOf(body, true).facts?.callerIdentity).toEqual({
      callerType: 'consumer',
      callerName: 'Jane Doe',
      firstName: 'Jane',
      lastName: 'Doe',
    });
    expect(lookupOf(body, false).facts?.callerIdentity).toBeUndefined();
  });

  it('a country_code that is not a region becomes null', () => {
    expect(lookupOf({ ...seed, country_code: 'unknown' }).country).toBeNull();
    expect(lookupOf({ status: 0 }).country).toBeNull();
  });

  it('rejects bodies of the wrong shape, naming fields but never their values', () => {
    for (const body of [
      [],
      'x',
      null,
      {},
      { status: 'ok' },
      { ...seed, roaming: 5 },
      { ...seed, current_carrier: 'x' },
    ]) {
      const result = niResponseSchema.safeParse(body);
      expect(result.success, JSON.stringify(body)).toBe(false);
    }
    const result = niResponseSchema.safeParse({ status: 0, international_format_number: 447700900001 });
    expect(result.success).toBe(false);
    if (!result.success) {
      const message = describeSchemaFailure(result.error);
      expect(message).toContain('international_format_number');
      expect(message).not.toContain('447700900001');
    }
  });
});

describe('Number Insight status table', () => {
  it.each([
    [0, 'data'],
    [43, 'data'],
    [44, 'data'],
    [45, 'data'],
    [1, 'throttled'],
  ])('status %i means %s', (status, kind) => {
    expect(statusOutcome(status).kind).toBe(kind);
  });

  it.each([
    [3, 'invalid_request', false],
    [4, 'invalid_credentials', false],
    [5, 'upstream_error', true],
    [9, 'quota_exceeded', false],
    [19, 'not_allowed', false],
    [999, 'invalid_request', false],
    [7, 'upstream_error', true],
  ])('status %i is the error %s (counts towards the breaker: %s)', (status, code, upstream) => {
    const outcome = statusOutcome(status);
    if (outcome.kind !== 'error') throw new Error(`status ${status} should be an error`);
    const error = statusError(status, outcome);
    expect(error).toMatchObject({ code, upstream });
    expect(error.message).toMatch(new RegExp(`^Vonage answered status ${status}: `));
  });
});
