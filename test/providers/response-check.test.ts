import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { iiResponseSchema, parseIiResponse } from '../../src/providers/identity-insights-schema.js';
import { niResponseSchema, parseNiResponse } from '../../src/providers/vonage-schema.js';

/**
 * The hand-written answer checks against the zod schemas they stand in front of: for any JSON, the same
 * success, data and issues, and the schema consulted only when it refuses (the check took every answer the
 * schema accepts).
 */

/** Any JSON value: what a field holds when Vonage (or a proxy) sends something unexpected. */
const junk = fc.jsonValue({ maxDepth: 2 });
/** Mostly a value the schema takes, sometimes anything at all. */
const mostly = (valid: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 15, arbitrary: valid }, { weight: 1, arbitrary: junk });
const text = mostly(
  fc.oneof(fc.constant(null), fc.string({ maxLength: 6 }), fc.constantFrom('null', '', 'GB')),
);
const priced = mostly(
  fc.oneof(
    fc.constant(null),
    fc.string({ maxLength: 6 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
  ),
);
/** A record of optional fields, plus fields the schema does not know (a loose object passes them). */
const loose = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  fc
    .tuple(
      fc.record(fields, { requiredKeys: [] }),
      fc.dictionary(fc.constantFrom('extra', 'country_name', 'ip_warnings'), junk, { maxKeys: 2 }),
    )
    .map(([known, extra]) => ({ ...extra, ...known }));
const textObject = (...names: string[]) =>
  mostly(fc.oneof(fc.constant(null), loose(Object.fromEntries(names.map((n) => [n, text])))));

const niAnswer = loose({
  status: mostly(
    fc.oneof(
      fc.constantFrom(0, 1, 3, 43, 999, '0', '0012', '43', '99999999999999999999'),
      fc.integer({ min: -10, max: 2000 }),
      fc.stringMatching(/^\d{1,4}$/),
      fc.constantFrom(1.5, -0.5, 2 ** 60, '1a', ' 1', '', '-1'),
    ),
  ),
  status_message: text,
  request_id: text,
  international_format_number: text,
  national_format_number: text,
  country_code: text,
  country_prefix: priced,
  request_price: priced,
  refund_price: priced,
  remaining_balance: priced,
  current_carrier: textObject('network_code', 'name', 'country', 'network_type'),
  original_carrier: textObject('network_code', 'name', 'country', 'network_type'),
  ported: text,
  caller_identity: textObject('caller_type', 'caller_name', 'first_name', 'last_name'),
  lookup_outcome: mostly(
    fc.oneof(
      fc.constant(null),
      fc.string({ maxLength: 4 }),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    ),
  ),
  valid_number: text,
  reachable: text,
  roaming: mostly(
    fc.oneof(
      fc.string({ maxLength: 6 }),
      textObject('status', 'roaming_country_code', 'roaming_network_code', 'roaming_network_name'),
    ),
  ),
  ip: mostly(
    fc.oneof(fc.string({ maxLength: 6 }), textObject('address', 'ip_match_level', 'ip_country', 'ip_city')),
  ),
});

const flag = mostly(fc.oneof(fc.constant(null), fc.boolean()));
const status = mostly(
  loose({ code: mostly(fc.constantFrom('OK', 'ok', 'PARTIAL_SUCCESS', 'NO_COVERAGE')), message: text }),
);
const insight = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  mostly(
    fc.oneof(
      fc.constant(null),
      loose(fields),
      fc.tuple(loose(fields), status).map(([i, s]) => ({ ...i, status: s })),
    ),
  );
const carrier = insight({ name: text, network_type: text, country_code: text, network_code: text, status });
const iiAnswer = loose({
  request_id: text,
  insights: mostly(
    loose({
      format: insight({ country_code: text, is_format_valid: flag, status }),
      current_carrier: carrier,
      original_carrier: carrier,
      roaming: insight({
        is_roaming: flag,
        country_codes: mostly(
          fc.oneof(fc.constant(null), fc.array(mostly(fc.constantFrom('ES', 'fr', '')), { maxLength: 3 })),
        ),
        latest_status_at: text,
        status,
      }),
      sim_swap: insight({ is_swapped: flag, latest_sim_swap_at: text, status }),
    }),
  ),
});

/** Only what JSON.parse can give: no undefined, no -0. */
const asJson = (a: fc.Arbitrary<unknown>) =>
  fc
    .oneof({ weight: 20, arbitrary: a }, { weight: 1, arbitrary: junk })
    .map((v) => JSON.stringify(v) ?? 'null');

function agrees(
  schema: typeof niResponseSchema | typeof iiResponseSchema,
  parse: (json: unknown) => { success: boolean; data?: unknown; error?: { issues: unknown[] } },
  body: string,
): boolean {
  const expected = schema.safeParse(JSON.parse(body));
  const spy = vi.spyOn(schema, 'safeParse');
  const got = parse(JSON.parse(body));
  const schemaAsked = spy.mock.calls.length > 0;
  spy.mockRestore();
  expect(got.success).toBe(expected.success);
  if (expected.success) expect(got.data).toEqual(expected.data);
  else expect(got.error?.issues).toEqual(expected.error.issues);
  // The check takes every answer the schema takes: the schema only runs to explain a refusal.
  expect(schemaAsked).toBe(!expected.success);
  return expected.success;
}

afterEach(() => vi.restoreAllMocks());

describe('the hand-written answer checks', () => {
  it.each([
    ['Number Insight v1', niAnswer, niResponseSchema, parseNiResponse],
    ['Identity Insights', iiAnswer, iiResponseSchema, parseIiResponse],
  ] as const)('%s: the same result as its schema for any JSON', (_, answer, schema, parse) => {
    let accepted = 0;
    fc.assert(
      fc.property(asJson(answer), (body) => {
        if (agrees(schema, parse, body)) accepted++;
      }),
      { numRuns: 1000, seed: 14 },
    );
    // Both sides of the check were exercised.
    expect(accepted).toBeGreaterThan(100);
    expect(accepted).toBeLessThan(900);
  });

  it('turns a numeric status string and numeric prices into the schema types', () => {
    const got = parseNiResponse({ status: '0', request_price: 0.03, country_prefix: 44, ip: 'x' });
    expect(got).toEqual({
      success: true,
      data: { status: 0, request_price: '0.03', country_prefix: '44', ip: 'x' },
    });
  });

  it('leaves a refused answer untouched for the schema, which names the failing fields', () => {
    const body = { status: '0', request_price: 1, current_carrier: { name: 7 } };
    const got = parseNiResponse(body);
    expect(got.success).toBe(false);
    expect(body).toEqual({ status: '0', request_price: 1, current_carrier: { name: 7 } });
    expect(got.error?.issues.map((i) => i.path)).toEqual([['current_carrier', 'name']]);
  });
});
