import { describe, expect, it } from 'vitest';
import { matchCountries } from '../../src/core/match.js';

const base = { ipPublic: true, ipCountry: 'GB', phoneCountry: 'GB', roamingCountry: null };

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
    ['IP not public', { ...base, ipPublic: false }, 'unknown', 'ip_not_public'],
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

  it('says ip_not_public before anything else: private addresses are never judged', () => {
    expect(matchCountries({ ...base, ipPublic: false, legacy: 'mismatch', phoneCountry: null }).reason).toBe(
      'ip_not_public',
    );
  });
});
