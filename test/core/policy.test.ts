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
  signals: [],
  ...over,
});

describe('policy', () => {
  it('defaults to allow / block / allow / allow, and flags a swapped SIM', () => {
    expect(mergePolicy(undefined, undefined)).toEqual({
      country: 'allow',
      mismatch: 'block',
      unknown: 'allow',
      error: 'allow',
      sim_swapped: 'flag',
    });
  });

  it('merges a route map over the core map over the defaults', () => {
    expect(mergePolicy({ unknown: 'flag', error: 'block' }, { mismatch: 'flag' })).toEqual({
      country: 'allow',
      mismatch: 'flag',
      unknown: 'flag',
      error: 'block',
      sim_swapped: 'flag',
    });
  });

  it('uses the error entry whenever the provider failed', () => {
    const { decide } = compilePolicy({ error: 'block' }, undefined, memoryLogger());
    const failed = result({
      matchLevel: 'unknown',
      reason: 'lookup_failed',
      error: { code: 'x', message: 'y' },
    });
    expect(decide(failed)).toBe('block');
    expect(decide(result({ matchLevel: 'unknown', reason: 'ip_not_public' }))).toBe('allow');
  });

  it('takes the most severe of the level and the signals present', () => {
    const swapped = result({ signals: ['sim_swapped'] });
    expect(compilePolicy(undefined, undefined, memoryLogger()).decide(swapped)).toBe('flag');
    expect(compilePolicy({ sim_swapped: 'block' }, undefined, memoryLogger()).decide(swapped)).toBe('block');
    expect(compilePolicy({ sim_swapped: 'allow' }, undefined, memoryLogger()).decide(swapped)).toBe('allow');
    // A signal never softens the level: a mismatch still blocks with an allowed signal.
    const both = result({ matchLevel: 'mismatch', reason: 'country_mismatch', signals: ['sim_swapped'] });
    expect(compilePolicy({ sim_swapped: 'allow' }, undefined, memoryLogger()).decide(both)).toBe('block');
  });

  it('names the signal that made a block, and not when the level blocked by itself', () => {
    const swapped = result({ signals: ['sim_swapped'] });
    const policy = compilePolicy({ sim_swapped: 'block' }, undefined, memoryLogger());
    expect(policy.blockedBy(swapped)).toBe('sim_swapped');
    const both = result({ matchLevel: 'mismatch', reason: 'country_mismatch', signals: ['sim_swapped'] });
    expect(policy.blockedBy(both)).toBeUndefined();
  });

  it('gives a policy function the signals, and finds the blocking signal through it', () => {
    const seen: unknown[] = [];
    const policy = compilePolicy(
      (r) => {
        seen.push(r.signals);
        return r.signals.includes('sim_swapped') ? 'block' : 'allow';
      },
      undefined,
      memoryLogger(),
    );
    const swapped = result({ signals: ['sim_swapped'] });
    expect(policy.decide(swapped)).toBe('block');
    expect(seen).toEqual([['sim_swapped']]);
    expect(policy.blockedBy(swapped)).toBe('sim_swapped');
  });

  it('falls back to the default map, signals included, when a policy function throws', () => {
    const logger = memoryLogger();
    const policy = compilePolicy(
      () => {
        throw new Error('bug');
      },
      undefined,
      logger,
    );
    expect(policy.decide(result({ signals: ['sim_swapped'] }))).toBe('flag');
    expect(logger.text()).toContain('IPMATCH_POLICY_THREW');
  });

  it('observe mode turns block into flag and leaves the rest', () => {
    expect(applyMode('block', 'observe')).toBe('flag');
    expect(applyMode('allow', 'observe')).toBe('allow');
    expect(applyMode('block', 'enforce')).toBe('block');
  });
});
