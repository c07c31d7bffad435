import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/core/options.js';
import { applyMode, compilePolicy, mergePolicy } from '../../src/core/policy.js';
import { SIGNAL_DEFAULTS, SIGNAL_NAMES, SIGNALS } from '../../src/core/signals.js';
import type { MatchResult } from '../../src/core/types.js';
import { memoryLogger } from '../helpers/logger.js';

const result = (over: Partial<MatchResult>): MatchResult => ({
  matchLevel: 'country',
  reason: 'country_match',
  ip: { address: '81.2.69.160', country: 'GB', network: null },
  phone: { number: '+447400123456', country: 'GB', roamingCountry: null, type: null },
  provider: 'local',
  signals: [],
  ...over,
});

const LEVELS = { country: 'allow', mismatch: 'block', unknown: 'allow', error: 'allow' } as const;

describe('policy', () => {
  it('defaults to allow / block / allow / allow, and each signal to its own row of the signal table', () => {
    // Every signal's default comes from its row, so a new signal needs no change here.
    const rows = Object.fromEntries(SIGNAL_NAMES.map((s) => [s, SIGNALS[s].action]));
    expect(mergePolicy(undefined, undefined)).toEqual({ ...LEVELS, ...rows });
    expect(DEFAULT_POLICY).toEqual({ ...LEVELS, ...SIGNAL_DEFAULTS });
  });

  it('merges a route map over the core map over the defaults', () => {
    expect(mergePolicy({ unknown: 'flag', error: 'block' }, { mismatch: 'flag' })).toEqual({
      ...LEVELS,
      ...SIGNAL_DEFAULTS,
      mismatch: 'flag',
      unknown: 'flag',
      error: 'block',
    });
  });

  it('uses the error entry whenever the provider failed', () => {
    const { decide } = compilePolicy({ error: 'block' }, undefined, memoryLogger());
    const failed = result({
      matchLevel: 'unknown',
      reason: 'lookup_failed',
      error: { code: 'x', message: 'y' },
    });
    expect(decide(failed).action).toBe('block');
    expect(decide(result({ matchLevel: 'unknown', reason: 'ip_not_public' })).action).toBe('allow');
  });

  it('takes the most severe of the level and the signals present', () => {
    const swapped = result({ signals: ['sim_swapped'] });
    expect(compilePolicy(undefined, undefined, memoryLogger()).decide(swapped).action).toBe('flag');
    expect(compilePolicy({ sim_swapped: 'block' }, undefined, memoryLogger()).decide(swapped).action).toBe(
      'block',
    );
    expect(compilePolicy({ sim_swapped: 'allow' }, undefined, memoryLogger()).decide(swapped).action).toBe(
      'allow',
    );
    // A signal never softens the level: a mismatch still blocks with an allowed signal.
    const both = result({ matchLevel: 'mismatch', reason: 'country_mismatch', signals: ['sim_swapped'] });
    expect(compilePolicy({ sim_swapped: 'allow' }, undefined, memoryLogger()).decide(both).action).toBe(
      'block',
    );
  });

  it.each(SIGNAL_NAMES)(
    'names %s as the cause of a block it made, and not when the level blocked by itself',
    (s) => {
      const policy = compilePolicy({ [s]: 'block' }, undefined, memoryLogger());
      expect(policy.decide(result({ signals: [s] }))).toEqual({ action: 'block', cause: s });
      const both = result({ matchLevel: 'mismatch', reason: 'country_mismatch', signals: [s] });
      expect(policy.decide(both)).toEqual({ action: 'block', cause: null });
      expect(
        compilePolicy({ [s]: 'flag' }, undefined, memoryLogger()).decide(result({ signals: [s] })),
      ).toEqual({
        action: 'flag',
        cause: null,
      });
    },
  );

  it('names the first blocking signal when several are present', () => {
    const policy = compilePolicy({ sim_swapped: 'flag', ip_missing: 'block' }, undefined, memoryLogger());
    expect(policy.decide(result({ signals: ['sim_swapped', 'ip_missing'] })).cause).toBe('ip_missing');
  });

  it('calls a policy function once per result, and finds the cause of its block beside it', () => {
    const seen: unknown[] = [];
    const policy = compilePolicy(
      (r) => {
        seen.push(r.signals);
        return r.signals.includes('sim_swapped') ? 'block' : 'allow';
      },
      undefined,
      memoryLogger(),
    );
    expect(policy.decide(result({ signals: ['sim_swapped'] }))).toEqual({
      action: 'block',
      cause: 'sim_swapped',
    });
    expect(seen).toEqual([['sim_swapped']]);
    // A function beside a core map that blocks a signal: that signal is the cause.
    const beside = compilePolicy(() => 'block', { ip_missing: 'block' }, memoryLogger());
    expect(beside.decide(result({ signals: ['sim_swapped', 'ip_missing'] })).cause).toBe('ip_missing');
    // A mismatch blocks by its level: no signal is the cause.
    const mismatch = result({ matchLevel: 'mismatch', reason: 'country_mismatch', signals: ['sim_swapped'] });
    expect(beside.decide(mismatch).cause).toBeNull();
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
    expect(policy.decide(result({ signals: ['sim_swapped'] })).action).toBe('flag');
    expect(logger.text()).toContain('IPMATCH_POLICY_THREW');
  });

  it('observe mode turns block into flag and leaves the rest', () => {
    expect(applyMode('block', 'observe')).toBe('flag');
    expect(applyMode('allow', 'observe')).toBe('allow');
    expect(applyMode('block', 'enforce')).toBe('block');
  });
});
