/** Compiles the `clientIp` option once into a per-request getter, and says what is wrong with it. */
import { IpMatchConfigError } from '../../core/errors.js';
import { nearest } from '../../core/validate.js';
import { fromHeader } from './client-ip-header.js';
import type { ClientIpOption, FrameworkIp, RequestIp, WarnOnce } from './client-ip-types.js';
import { fromForwardedFor } from './forwarded-for.js';
import { compileTrustedProxies } from './proxies.js';

export { compileTrustedProxies, isProxyEntry } from './proxies.js';

const XFF_UNTRUSTED = 'IPMATCH_XFF_UNTRUSTED';
const TRUST_PROXY_ALL = 'IPMATCH_TRUST_PROXY_ALL';

/** The framework's trusted IP, with the socket address as a free shortcut when proxy trust is off. */
function fromFramework<Req>(
  { raw: rawOf, framework: fw }: { raw: RequestIp<Req>['raw']; framework: FrameworkIp<Req> },
  warnOnce: WarnOnce,
): (req: Req) => string | undefined {
  let warnedXff = false;
  let warnedAll = false;
  let warnedPeer = false;
  return (req) => {
    const trust = fw.trust(req);
    if (trust === 'off') {
      const raw = rawOf(req);
      if (!warnedPeer && !raw.socket) {
        warnedPeer = true;
        warnOnce(
          'IPMATCH_NO_PEER',
          'ipmatch: this runtime gives no connection address (Cloudflare Workers have none), so every check ' +
            "is ip_not_public: pass clientIp: the header your platform sets, such as 'cf-connecting-ip'.",
        );
      }
      if (!warnedXff && raw.headers['x-forwarded-for'] !== undefined) {
        warnedXff = true;
        warnOnce(
          XFF_UNTRUSTED,
          'ipmatch: an X-Forwarded-For header arrived while proxy trust is off, so the socket address is used ' +
            'as the client IP. If this app runs behind a proxy or load balancer, every client looks like the ' +
            `proxy: trust it with ${fw.advice.enableTrust}.`,
        );
      }
      // Same value as req.ip / ctx.ip without trust, minus the header walk those getters do on every read.
      return raw.socket?.remoteAddress;
    }
    if (trust === 'all' && !warnedAll) {
      warnedAll = true;
      warnOnce(
        TRUST_PROXY_ALL,
        'ipmatch: proxy trust is unbounded, so any client can pick its own IP with an X-Forwarded-For header ' +
          `and pass the country check: ${fw.advice.restrictTrust}.`,
      );
    }
    return fw.ip(req);
  };
}

const MODES = ['framework', 'request-ip'];
// RFC 9110 token characters: what a header name may hold.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Why a string cannot be a `clientIp` (a mode or a header name), or undefined when it can. */
export function clientIpStringProblem(value: string): string | undefined {
  if (MODES.includes(value)) return undefined;
  const near = nearest(value, MODES);
  if (near) return `${JSON.stringify(value)} is not a mode; did you mean '${near}'?`;
  if (!HEADER_NAME.test(value)) {
    return (
      "expected 'framework', 'request-ip', the name of a header your platform sets (such as " +
      "'cf-connecting-ip'), or a function (req) => ip"
    );
  }
  return undefined;
}

/**
 * What is wrong with a `clientIp` / `trustedProxies` pair, in words that say what to pass instead.
 * Route options report these with the rest of their problems. `connection` is false where the framework has
 * no socket of its own to read (the Fetch API): there is no 'framework' IP there.
 */
export function clientIpProblems(
  option: unknown,
  trustedProxies: readonly string[] | undefined,
  connection = true,
): string[] {
  if (!connection && option === 'framework') {
    return [
      'clientIp: required here: a fetch-standard Request has no socket, so the client address can only come ' +
        "from your platform. Pass the header it sets and strips from clients (Cloudflare 'cf-connecting-ip', " +
        "Fly 'fly-client-ip'), a function (request) => ip such as Vercel's ipAddress(request), or, on a server " +
        "that gives you the connection's address, 'request-ip' with trustedProxies and " +
        'guard(request, { remoteAddress }). Any other header is a one-header spoof.',
    ];
  }
  if (option === 'request-ip' && !trustedProxies?.length) {
    return [
      "clientIp: 'request-ip' needs trustedProxies, the addresses of your proxies (e.g. trustedProxies: " +
        "['10.0.0.0/8'] or ['loopback']): X-Forwarded-For is walked from the socket peer only through them",
    ];
  }
  if (trustedProxies !== undefined && !readsHeader(option)) {
    return [
      "trustedProxies: only used with clientIp: 'request-ip' or a header name; with the default clientIp: " +
        "'framework', set your framework's proxy trust instead (Express: app.set('trust proxy', …), Koa: " +
        'app.proxy, Fastify: trustProxy)',
    ];
  }
  return [];
}

/** Whether a `clientIp` reads the address from a header ('request-ip' or a header name): its absence is then `ip_missing`. */
export function readsHeader(option: unknown): boolean {
  return typeof option === 'string' && option !== 'framework';
}

/** Compiles the `clientIp` option once into a per-request getter. Throws IpMatchConfigError on a bad pair. */
export function compileClientIp<Req>(
  option: ClientIpOption<Req> | undefined,
  trustedProxies: readonly string[] | undefined,
  source: RequestIp<Req>,
  warnOnce: WarnOnce,
): (req: Req) => string | undefined {
  const { framework, raw } = source;
  const problems = clientIpProblems(option ?? 'framework', trustedProxies, framework !== undefined);
  if (problems.length > 0) throw new IpMatchConfigError('clientIp options', problems);
  if (typeof option === 'function') return option;
  if (option === undefined || option === 'framework')
    return fromFramework({ raw, framework: framework! }, warnOnce);
  const trusted = trustedProxies?.length ? compileTrustedProxies(trustedProxies) : undefined;
  const advice = source.noPeerAdvice ?? NO_PEER_ADVICE;
  // A named X-Forwarded-For behind trusted proxies is the same walk: its right-most entry alone may be a proxy's.
  if (trusted && (option === 'request-ip' || option.toLowerCase() === 'x-forwarded-for')) {
    return fromForwardedFor(raw, trusted, warnOnce, advice);
  }
  return fromHeader(raw, option, trusted, warnOnce, advice);
}

const NO_PEER_ADVICE =
  "on a runtime without one (Cloudflare Workers), name the header your platform sets, such as 'cf-connecting-ip', " +
  'without trustedProxies';
