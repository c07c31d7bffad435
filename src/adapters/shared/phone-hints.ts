/** One-time hints to the developer whose route cannot find phone numbers: the fix, never the number itself. */
import type { CoreInternals } from '../../core/internal.js';

/** Digits and separators without a leading '+': a number in national format, such as "07400 123456". */
const NATIONAL = /^[\d\s().-]{6,30}$/;
/** A string that could be a phone number in any format: an optional '+', then 7 to 15 digits among separators. */
const PHONE_LIKE = /^\+?[\d\s().-]{7,30}$/;
/** A key that may appear in a suggested path: anything else (control characters, dots) is not echoed. */
const SAFE_KEY = /^[A-Za-z_$][\w$-]{0,40}$/;
/** Keys a suggested path never holds: reading them walks to a prototype (see phone-path.ts). */
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
/** How many keys of each object the search looks at, so that a hostile body costs little. */
const KEYS_PER_LEVEL = 50;

const digits = (s: string) => s.replace(/\D/g, '').length;

/**
 * The dot path of a string that looks like a phone number, at most two levels into `body`, or undefined. Only
 * paths made of plain keys are returned, since the path is logged and the body is the client's.
 */
export function phoneLikePath(body: unknown): string | undefined {
  const search = (value: unknown, prefix: string, depth: number): string | undefined => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    let seen = 0;
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (++seen > KEYS_PER_LEVEL) return undefined;
      if (!SAFE_KEY.test(key) || FORBIDDEN.has(key)) continue;
      const v = (value as Record<string, unknown>)[key];
      const path = prefix + key;
      if (typeof v === 'string' && PHONE_LIKE.test(v) && digits(v) >= 7 && digits(v) <= 15) return path;
      if (depth > 1) {
        const inner = search(v, `${path}.`, depth - 1);
        if (inner) return inner;
      }
    }
    return undefined;
  };
  return search(body, '', 2);
}

export interface PhoneHints {
  /** No body parser ran: every request will get a 400. */
  noParser(): void;
  /** No phone at the route's path in a parsed `body`. */
  missing(body: unknown): void;
  /** The route answered phone_invalid for `phone`. */
  invalid(phone: unknown): void;
}

/**
 * The hints of one route. `path` is where it reads the phone (undefined: a function); `hasRegion` is whether a
 * region for national numbers is set (the core's `defaultCountry` or the route's `country`).
 */
export function phoneHints(
  inner: Pick<CoreInternals, 'warnOnce'>,
  { path, hasRegion, bodyParsers }: { path: string | undefined; hasRegion: boolean; bodyParsers: string },
): PhoneHints {
  let pathHinted = path === undefined;
  let nationalHinted = hasRegion;
  return {
    noParser() {
      inner.warnOnce(
        'IPMATCH_NO_BODY_PARSER',
        `ipmatch: the request body is not parsed, so every request gets 400 invalid_phone: mount ` +
          `${bodyParsers} before ipMatch, or pass phone: (req) => … to read it from elsewhere.`,
      );
    },
    missing(body) {
      if (pathHinted) return;
      const found = phoneLikePath(body);
      if (found === undefined || found === path) return;
      pathHinted = true;
      inner.warnOnce(
        'IPMATCH_PHONE_PATH',
        `ipmatch: a request had no phone number at "${path}" in its body, but "${found}" holds one: if that ` +
          `is where your clients send it, pass phone: '${found}' to ipMatch. Such requests get 400 invalid_phone.`,
      );
    },
    invalid(phone) {
      if (nationalHinted || typeof phone !== 'string' || !NATIONAL.test(phone.trim())) return;
      nationalHinted = true;
      inner.warnOnce(
        'IPMATCH_NATIONAL_NUMBER',
        'ipmatch: a phone number without its +country code got 400 invalid_phone, since no region is set ' +
          "for national numbers: if your users type them, set defaultCountry: 'GB' (createIpMatch) or the " +
          "route option country: 'GB' to their region, or country: (req) => … per request.",
      );
    },
  };
}
