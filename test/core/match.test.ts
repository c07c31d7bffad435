import { describe, expect, it } from 'vitest';
import { matchCountries } from '../../src/core/match.js';

const base = { ipCountry: 'GB', phoneCountry: 'GB', roamingCountry: null };

describe('matchCountries', () => {
  it.each([
    ['same country', base, 'country', 'country_match'],
    ['different country', { ...base, ipCountry: 'KR' }, 'mismatch', 'country_mismatch'],
    [
      'roaming where the IP is',
      { ...base, ipCountry: 'KR', roamingCountry: 'KR' },
      'country',
      'roaming_match',
    ],
    ['roaming elsewhere', { ...base, ipCountry: 'KR', roamingCountry: 'FR' }, 'mismatch', 'country_mismatch'],
    ['IP not in the data', { ...base, ipCountry: null }, 'unknown', 'ip_country_unknown'],
    ['phone without a country', { ...base, phoneCountry: null }, 'unknown', 'phone_country_unknown'],
    [
      'legacy country verdict',
      { ...base, ipCountry: 'KR', legacy: 'country' as const },
      'country',
      'country_match',
    ],
    ['legacy mismatch verdict', { ...base, legacy: 'mismatch' as const }, 'mismatch', 'country_mismatch'],
    [
      'legacy unknown falls back to local data',
      { ...base, legacy: 'unknown' as const },
      'country',
      'country_match',
    ],
  ])('%s', (_name, input, matchLevel, reason) => {
    expect(matchCountries(input)).toEqual({ matchLevel, reason });
  });

  it('lets a legacy Vonage verdict decide before the countries', () => {
    expect(matchCountries({ ...base, legacy: 'mismatch' }).reason).toBe('country_mismatch');
    expect(matchCountries({ ...base, ipCountry: 'KR', legacy: 'country' }).reason).toBe('country_match');
  });
});
