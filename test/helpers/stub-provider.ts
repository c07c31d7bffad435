import { type IpMatchProvider, localProvider, type PhoneLookup, ProviderError } from 'ipmatch';

const local = localProvider();

/**
 * A remote provider whose answers the test controls: it parses and geolocates with the real offline data,
 * and its lookups resolve after `delayMs` with what `answer` returns (or throw what it throws).
 */
export function stubRemoteProvider(
  answer: (number: string) => PhoneLookup | Error = () => ({ country: null, roamingCountry: null }),
  options: { delayMs?: number; keyIncludesIp?: boolean; ignoreAbort?: boolean } = {},
): IpMatchProvider & { calls: number; aborted: number } {
  const provider = {
    name: 'stub',
    remote: true,
    keyIncludesIp: options.keyIncludesIp ?? false,
    calls: 0,
    aborted: 0,
    parsePhone: local.parsePhone,
    ipCountry: local.ipCountry,
    lookup({ phone, signal }) {
      provider.calls++;
      return new Promise<PhoneLookup>((resolve, reject) => {
        const timer = setTimeout(() => {
          const a = answer(phone.number);
          if (a instanceof Error) reject(a);
          else resolve(a);
        }, options.delayMs ?? 0);
        if (!options.ignoreAbort) {
          signal.addEventListener('abort', () => {
            provider.aborted++;
            clearTimeout(timer);
            reject(new ProviderError('timeout', 'aborted'));
          });
        }
      });
    },
  } satisfies IpMatchProvider & { calls: number; aborted: number };
  return provider;
}
