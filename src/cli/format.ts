/** The CLI's human output: label/value lines, and a decision as a person checking a number reads it. */
import type { RouteAnswer } from '../adapters/shared/answers.js';
import type { IpMatchDecision, VelocityCounts } from '../core/types.js';

/** Label/value lines with the values in one column. */
export function lines(rows: readonly (readonly [string, string] | undefined)[]): string {
  const present = rows.filter((r) => r !== undefined);
  const width = Math.max(...present.map(([label]) => label.length)) + 2;
  return present.map(([label, value]) => label.padEnd(width) + value).join('\n') + '\n';
}

function ipLine(d: IpMatchDecision, input: string): string {
  if (d.ip.address === null) return `${JSON.stringify(input)} is not an IP address`;
  if (d.reason === 'ip_not_public') return `${d.ip.address}  not public (private, loopback or reserved)`;
  if (d.reason === 'phone_invalid') return d.ip.address;
  return `${d.ip.address}  ${d.ip.country ?? 'not in the GeoIP data'}`;
}

/** The IP-nature list that matched: a provider's name, with what it changed for a Private Relay egress. */
function networkLine(network: string): string {
  return network === 'icloud-private-relay'
    ? `${network} (the IP's country is the one Apple's relay list declares)`
    : network;
}

function phoneLine(d: IpMatchDecision, input: string): string {
  if (d.phone.number === null) return `${JSON.stringify(input)} is not a phone number`;
  const country = d.phone.country ?? 'no country (non-geographic number)';
  const valid =
    d.phone.valid === undefined ? '' : d.phone.valid ? '  valid' : '  not valid (outside allocated ranges)';
  const type = d.phone.type === null ? '' : `  ${d.phone.type}`;
  return `${d.phone.number}  ${country}${type}${valid}`;
}

/**
 * The velocity counts as the decision log and the options name them. A one-shot check counts in a store of its
 * own, empty at start, so each is this check alone: said, so that a 1 is not read as a quiet IP.
 */
function velocityLine({ ip, subnet, phoneCountries, prefix }: VelocityCounts): string {
  return (
    `ip ${ip}, subnet ${subnet}, phoneCountries ${phoneCountries}, prefix ${prefix}` +
    ' (counted in this run alone)'
  );
}

function carrierLine(d: IpMatchDecision): string | undefined {
  const parts = [d.phone.carrier, d.phone.networkType].filter((p) => p != null && p !== '');
  return parts.length > 0 ? parts.join(', ') : undefined;
}

function actionLine(d: IpMatchDecision, answer: RouteAnswer | null): string {
  // An invalid phone is allowed by the policy, but a route rejects it before any handler runs.
  if (answer && answer.status !== 403) return "reject (onInvalidPhone: 'skip' passes it on instead)";
  return d.action === d.policyAction ? d.action : `${d.action} (the policy said ${d.policyAction})`;
}

/**
 * The decision as a few aligned lines: what a person checking a number by hand wants to read, with what a
 * route answers (`answer`) when it does not pass the request on.
 */
export function formatDecision(
  d: IpMatchDecision,
  input: { phone: string; ip: string },
  answer: RouteAnswer | null = null,
): string {
  const carrier = carrierLine(d);
  return lines([
    ['match', `${d.matchLevel} (${d.reason})`],
    ['action', actionLine(d, answer)],
    answer ? ['answer', `${answer.status} ${answer.body.error}: ${answer.body.message}`] : undefined,
    ['ip', ipLine(d, input.ip)],
    d.ip.network ? ['network', networkLine(d.ip.network)] : undefined,
    ['phone', phoneLine(d, input.phone)],
    d.phone.roamingCountry
      ? ['roaming', (d.phone.roamingCountries ?? [d.phone.roamingCountry]).join(', ')]
      : undefined,
    d.phone.simSwap
      ? [
          'sim swap',
          d.phone.simSwap.swapped
            ? `swapped (last ${d.phone.simSwap.at ?? 'at an unknown time'})`
            : 'not swapped',
        ]
      : undefined,
    d.signals.length > 0 ? ['signals', d.signals.join(', ')] : undefined,
    d.velocity ? ['velocity', velocityLine(d.velocity)] : undefined,
    d.phone.missingInsights
      ? [
          'missing',
          Object.entries(d.phone.missingInsights)
            .map(([k, v]) => `${k} (${v})`)
            .join(', '),
        ]
      : undefined,
    carrier ? ['carrier', carrier] : undefined,
    ['provider', d.cached ? `${d.provider} (cached)` : d.provider],
    d.cost ? ['cost', `${d.cost.price ?? '?'} ${d.cost.currency}`] : undefined,
    d.error ? ['error', `${d.error.code}: ${d.error.message}`] : undefined,
  ]);
}
