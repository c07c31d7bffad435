/**
 * The checks the hand-written answer checks (vonage-schema.ts, identity-insights-schema.ts) share: each is what
 * one zod schema of theirs accepts, so that the two checks and their schemas stay held to the same meaning.
 */

/** `z.nullish(z.string())`. */
export const isText = (v: unknown): boolean => v === undefined || v === null || typeof v === 'string';

/** `z.nullish(z.boolean())`. */
export const isFlag = (v: unknown): boolean => v === undefined || v === null || typeof v === 'boolean';

/** What `z.looseObject` takes: an object that is not an array. */
export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
