import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';
import { getClientIp } from 'request-ip';
import { IpMatchConfigError } from '../core/errors.js';

/** Where the client IP comes from: the framework's trusted IP, request-ip behind trusted proxies, or a function. */
export type ClientIpOption<Req> = 'framework' | 'request-ip' | ((req: Req) => string | undefined);

/** How far a framework trusts proxy headers: not at all, some proxies, or every hop (forgeable). */
export type ProxyTrust = 'off' | 'some' | 'all';

/**
 * What an adapter tells this module about its framework. Express: `req.ip` and `trust proxy`; Koa: `ctx.ip`,
 * `app.proxy` and `maxIpsCount`.
 */
export interface FrameworkIp<Req> {
  /** The Node request, for its headers and socket. */
  raw(req: Req): IncomingMessage;
  /** The framework's client IP, honouring its proxy setting. Only read when trust is not 'off'. */
  ip(req: Req): string | undefined;
  /** The framework's proxy trust for this request's app. Called per request: adapters cache it per app. */
  trust(req: Req): ProxyTrust;
  /** How to fix each warning in this framework's words. */
  advice: {
    /** Shown when X-Forwarded-For arrives while trust is off, e.g. "app.set('trust proxy', 'loopback')". */
    enableTrust: string;
    /** Shown when every hop is trusted, e.g. "set 'trust proxy' to your proxies' addresses or a hop count". */
    restrictTrust: string;
  };
}

/** Logs a coded warning once per core. */
export type WarnOnce = (code: string, message: string, meta?: object) => void;

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

// The same names Express's `trust proxy` accepts, so that one vocabulary works in both places.
const NAMED: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

function parseRange(entry: string): Range | undefined {
  try {
    if (entry.includes('/')) {
      if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(entry) && !ipaddr.IPv6.isValidCIDR(entry)) return undefined;
      const [addr, bits] = ipaddr.parseCIDR(entry);
      // '::ffff:10.0.0.0/104' means 10.0.0.0/8: peers are compared after unwrapping IPv4-mapped addresses.
      if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
        return [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96];
      }
      return [addr, bits];
    }
    if (!ipaddr.IPv4.isValidFourPartDecimal(entry) && !ipaddr.IPv6.isValid(entry)) return undefined;
    const addr = ipaddr.process(entry);
    return [addr, addr.kind() === 'ipv4' ? 32 : 128];
  } catch {
    return undefined;
  }
}

/** true when `entry` can be a trusted proxy: an IP, a CIDR, or 'loopback' | 'linklocal' | 'uniquelocal'. */
export function isProxyEntry(entry: string): boolean {
  return Object.hasOwn(NAMED, entry) || parseRange(entry) !== undefined;
}

/**
 * Compiles trusted proxies once into a peer test. IPv4-mapped peers (`::ffff:10.1.2.3`) match IPv4 ranges.
 * Answers are memoised per peer address: a fleet has few proxies, and the memo is bounded.
 */
export function compileTrustedProxies(entries: readonly string[]): (peer: string | undefined) => boolean {
  const ranges: Range[] = [];
  for (const entry of entries) {
    for (const one of NAMED[entry] ?? [entry]) {
      const range = parseRange(one);
      if (!range) throw new TypeError(`not an IP or CIDR: ${JSON.stringify(entry)}`);
      ranges.push(range);
    }
  }
  const memo = new Map<string, boolean>();
  const test = (peer: string): boolean => {
    if (!ipaddr.isValid(peer)) return false;
    const addr = ipaddr.process(peer);
    return ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
  };
  return (peer) => {
    if (!peer) return false;
    let hit = memo.get(peer);
    if (hit === undefined) {
      hit = test(peer);
      if (memo.size >= 1024) memo.clear();
      memo.set(peer, hit);
    }
    return hit;
  };
}

const XFF_UNTRUSTED = 'IPMATCH_XFF_UNTRUSTED';
const TRUST_PROXY_ALL = 'IPMATCH_TRUST_PROXY_ALL';

/** The framework's trusted IP, with the socket address as a free shortcut when proxy trust is off. */
function fromFramework<Req>(fw: FrameworkIp<Req>, warnOnce: WarnOnce): (req: Req) => string | undefined {
  let warnedXff = false;
  let warnedAll = false;
  return (req) => {
    const trust = fw.trust(req);
    if (trust === 'off') {
      const raw = fw.raw(req);
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

/** request-ip's headers, believed only when the socket peer is one of `trustedProxies`. */
function fromRequestIp<Req>(
  fw: FrameworkIp<Req>,
  trustedProxies: readonly string[],
  warnOnce: WarnOnce,
): (req: Req) => string | undefined {
  const trusted = compileTrustedProxies(trustedProxies);
  let warnedXff = false;
  return (req) => {
    const raw = fw.raw(req);
    const peer = raw.socket?.remoteAddress;
    if (trusted(peer)) return getClientIp(raw) ?? peer;
    if (!warnedXff && raw.headers['x-forwarded-for'] !== undefined) {
      warnedXff = true;
      warnOnce(
        XFF_UNTRUSTED,
        'ipmatch: an X-Forwarded-For header arrived from a peer outside trustedProxies, so it was ignored and ' +
          'the socket address used. If your proxy sent it, add its address to trustedProxies.',
      );
    }
    return peer;
  };
}

/**
 * What is wrong with a `clientIp` / `trustedProxies` pair, in words that say what to pass instead.
 * Route options report these with the rest of their problems.
 */
export function clientIpProblems(option: unknown, trustedProxies: readonly string[] | undefined): string[] {
  if (option === 'request-ip' && !trustedProxies?.length) {
    return [
      "clientIp: 'request-ip' needs trustedProxies, the addresses of your proxies (e.g. trustedProxies: " +
        "['10.0.0.0/8'] or ['loopback']): request-ip alone believes X-Client-IP and X-Forwarded-For from anyone",
    ];
  }
  if (trustedProxies !== undefined && option !== 'request-ip') {
    return [
      "trustedProxies: only used with clientIp: 'request-ip'; with the default clientIp: 'framework', " +
        "set your framework's proxy trust instead (Express: app.set('trust proxy', …), Koa: app.proxy)",
    ];
  }
  return [];
}

/** Compiles the `clientIp` option once into a per-request getter. Throws IpMatchConfigError on a bad pair. */
export function compileClientIp<Req>(
  option: ClientIpOption<Req> | undefined,
  trustedProxies: readonly string[] | undefined,
  fw: FrameworkIp<Req>,
  warnOnce: WarnOnce,
): (req: Req) => string | undefined {
  const problems = clientIpProblems(option ?? 'framework', trustedProxies);
  if (problems.length > 0) throw new IpMatchConfigError('clientIp options', problems);
  if (typeof option === 'function') return option;
  if (option === 'request-ip') return fromRequestIp(fw, trustedProxies ?? [], warnOnce);
  return fromFramework(fw, warnOnce);
}
