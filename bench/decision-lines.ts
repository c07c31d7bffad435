/**
 * Synthetic decision-log lines, as decisionLog() writes them, spread over `days` days: the input of the report
 * bench (a million lines) and of the page's screenshot in docs/. Seeded, so that every run writes the same file.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { seeded } from '../src/testing/seeded.js';

const ROUTES = ['/signup', '/signup', '/signup', '/users/:id/checkout', '/api/v1/login'];
const HOMES = ['GB', 'US', 'FR', 'DE', 'IN', 'BR', 'ES', 'IT', 'NL', 'JP'];
const ELSEWHERE = ['NL', 'KR', 'CN', 'RU', 'NG', 'VN', 'US', 'RO'];

/** One line: mostly matches, 9% mismatches (more at night), some roaming, unknowns, errors and typos. */
function line(next: () => number, time: number): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  const route = pick(ROUTES);
  const phone = pick(HOMES);
  const hour = new Date(time).getUTCHours();
  const r = next();
  const mismatchShare = hour < 6 ? 0.16 : 0.08;
  let level = 'country';
  let reason = 'country_match';
  let ip: string | null = phone;
  let error: string | null = null;
  let signals = '[]';
  if (r < mismatchShare) {
    level = 'mismatch';
    reason = 'country_mismatch';
    ip = pick(ELSEWHERE.filter((c) => c !== phone));
  } else if (r < mismatchShare + 0.02) {
    reason = 'roaming_match';
    ip = pick(ELSEWHERE.filter((c) => c !== phone));
  } else if (r < mismatchShare + 0.05) {
    level = 'unknown';
    reason = 'ip_not_public';
    ip = null;
  } else if (r < mismatchShare + 0.055) {
    level = 'unknown';
    reason = pick(['lookup_timeout', 'lookup_failed']);
    error = reason === 'lookup_timeout' ? 'lookup_timeout' : 'provider_unavailable';
  } else if (r < mismatchShare + 0.065) {
    level = 'unknown';
    reason = 'phone_invalid';
  } else if (r < mismatchShare + 0.067) {
    signals = '["sim_swapped"]';
  }
  const checkout = route === '/users/:id/checkout';
  const policy = level === 'mismatch' ? (checkout ? 'flag' : 'block') : signals !== '[]' ? 'flag' : 'allow';
  const action = policy === 'block' ? 'flag' : policy; // observe mode
  const phoneCountry = reason === 'phone_invalid' ? null : phone;
  const key = Math.floor(next() * 400_000)
    .toString(16)
    .padStart(32, '0');
  return (
    `{"time":"${new Date(time).toISOString()}","route":"${route}","method":"POST","action":"${action}",` +
    `"policyAction":"${policy}","matchLevel":"${level}","reason":"${reason}","signals":${signals},` +
    `"ipCountry":${ip === null ? null : `"${ip}"`},"phoneCountry":${phoneCountry === null ? null : `"${phoneCountry}"`},` +
    `"roamingCountry":null,"provider":"local","cached":false,"errorCode":${error === null ? null : `"${error}"`},` +
    `"durationMs":${(0.02 + next() * 0.1).toFixed(3)},"phoneKey":"${key}","ipPrefix":"192.0.2.0/24"}\n`
  );
}

/** Writes `count` lines over `days` days ending 2026-11-29, in time order, and resolves when they are on disk. */
export async function writeDecisionLines(file: string, count: number, days = 7, seed = 7): Promise<void> {
  const next = seeded(seed);
  const end = Date.UTC(2026, 10, 29);
  const start = end - days * 86_400_000;
  const out = createWriteStream(file);
  let chunk = '';
  for (let i = 0; i < count; i++) {
    chunk += line(next, start + Math.floor(((end - start) * i) / count));
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'close');
}
