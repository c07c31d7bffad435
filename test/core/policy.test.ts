import { describe, expect, it } from 'vitest';
import { applyMode, compilePolicy, mergePolicy } from '../../src/core/policy.js';
import type { MatchResult } from '../../src/core/types.js';
import { memoryLogger } from '../helpers/logger.js';

const result = (over: Partial<MatchResult>): MatchResult => ({
  matchLevel: 'country',
  reason: 'country_match',
  ip: { address: '81.2.69.160', country: 'GB' },
  phone: { number: '+447400123456', country: 'GB', roamingCountry: null },
  provider: 'local',
  ...over,
});

describe('policy', () => {
  it('defaults to allow / block / allow / allow', () => {
    expect(mergePolicy(undefined, undefined)).toEqual({
      country: 'allow',
      mismatch: 'block',
      unknown: 'allow',
      error: 'allow',
    });
  });

  it('merges a route map over the core map over the defaults', () => {
    expect(mergePolicy({ unknown: 'flag', error: 'block' }, { mismatch: 'flag' })).toEqual({
      country: 'allow',
      mismatch: 'flag',
      unknown: 'flag',
      error: 'block',
    });
  });

  it('uses the error entry whenever the provider failed', () => {
    const decide = compilePolicy({ error: 'block' }, undefined, memoryLogger());
    const failed = result({
      matchLevel: 'unknown',
      reason: 'lookup_failed',
      error: { code: 'x', message: 'y' },
    });
    expect(decide(failed)).toBe('block');
    expect(decide(result({ matchLevel: 'unknown', reason: 'ip_not_public' }))).toBe('allow');
  });

  it('observe mode turns block into flag and leaves the rest', () => {
    expect(applyMode('block', 'observe')).toBe('flag');
    expect(applyMode('allow', 'observe')).toBe('allow');
    expect(applyMode('block', 'enforce')).toBe('block');
  });
});
