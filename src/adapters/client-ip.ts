import ipaddr from 'ipaddr.js';
import { getClientIp } from 'request-ip';
import { IpMatchConfigError } from '../core/errors.js';
import { nearest } from '../core/validate.js';

/**
 * Where the client IP comes from: the framework's trusted IP, request-ip behind trusted proxies, a header that
 * the platform in front sets (its right-most entry), or a function.
 */
export type ClientIpOption<Req> =
  | 'framework'
  | 'request-ip'
  | (string & {})
  | ((req: Req) => string | undefined);

/** How far a framework trusts proxy headers: not at all, some proxies, or every hop (forgeable). */
export type ProxyTrust = 'off' | 'some' | 'all';

/**
 * The part of Node's `IncomingMessage` that this module reads (request-ip reads the same). Node frameworks
 * pass the request itself; fetch-standard ones a view of the `Request`'s headers and the runtime's peer.
 */
export interface PeerRequest {
  /** Lower-case names; a repeated header's values joined with ', ', as Node does. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly socket?: { readonly remoteAddress?: string | undefined } | null;
}

/** The request's headers and peer, and, where the framework has them, its own client IP and proxy trust. */
export interface RequestIp<Req> {
  raw(req: Req): PeerRequest;
  /** Absent where there is no connection to read (the Fetch API): `clientIp` must then be a header or a function. */
  framework?: FrameworkIp<Req>;
}

/**
 * What an adapter tells this module about its framework's client IP. Express: `req.ip` and `trust proxy`;
 * Koa: `ctx.ip`, `app.proxy` and `maxIpsCount`; Fastify: `request.ip` and `trustProxy`.
 */
export interface FrameworkIp<Req> {
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
function fromFramework<Req>(
  { raw: rawOf, framework: fw }: Required<RequestIp<Req>>,
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

/** request-ip's headers, believed only when the socket peer is one of `trustedProxies`. */
function fromRequestIp<Req>(
  rawOf: (req: Req) => PeerRequest,
  trustedProxies: readonly string[],
  warnOnce: WarnOnce,
): (req: Req) => string | undefined {
  const trusted = compileTrustedProxies(trustedProxies);
  let warnedXff = false;
  return (req) => {
    const raw = rawOf(req);
    const peer = raw.socket?.remoteAddress;
    // request-ip's types ask for a whole IncomingMessage; it reads only the headers and the socket.
    if (trusted(peer)) return getClientIp(raw as Parameters<typeof getClientIp>[0]) ?? peer;
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
 * A header set by the platform in front: its right-most entry, the one the nearest proxy wrote. A client can
 * send the header too, but only the platform's own value comes last (or alone, where the platform replaces it).
 */
function fromHeader<Req>(rawOf: (req: Req) => PeerRequest, name: string): (req: Req) => string | undefined {
  const key = name.toLowerCase();
  return (req) => {
    const value = rawOf(req).headers[key];
    const list = Array.isArray(value) ? value.join(',') : value;
    if (!list) return undefined;
    return list.slice(list.lastIndexOf(',') + 1).trim() || undefined;
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
 * no socket to read (the Fetch API).
 */
export function clientIpProblems(
  option: unknown,
  trustedProxies: readonly string[] | undefined,
  connection = true,
): string[] {
  if (!connection && (option === 'framework' || option === 'request-ip')) {
    return [
      `clientIp: ${option === 'framework' ? 'required' : "'request-ip' cannot work"} here: a fetch-standard ` +
        'Request has no socket, so the client address can only come from your platform. Pass the header it ' +
        "sets and strips from clients (Cloudflare 'cf-connecting-ip', Fly 'fly-client-ip') or a function " +
        "(request) => ip, such as Vercel's ipAddress(request). Any other header is a one-header spoof.",
    ];
  }
  if (option === 'request-ip' && !trustedProxies?.length) {
    return [
      "clientIp: 'request-ip' needs trustedProxies, the addresses of your proxies (e.g. trustedProxies: " +
        "['10.0.0.0/8'] or ['loopback']): request-ip alone believes X-Client-IP and X-Forwarded-For from anyone",
    ];
  }
  if (trustedProxies !== undefined && option !== 'request-ip') {
    return [
      "trustedProxies: only used with clientIp: 'request-ip'; with the default clientIp: 'framework', " +
        "set your framework's proxy trust instead (Express: app.set('trust proxy', …), Koa: app.proxy, " +
        'Fastify: trustProxy)',
    ];
  }
  return [];
}

/** Compiles the `clientIp` option once into a per-request getter. Throws IpMatchConfigError on a bad pair. */
export function compileClientIp<Req>(
  option: ClientIpOption<Req> | undefined,
  trustedProxies: readonly string[] | undefined,
  source: RequestIp<Req>,
  warnOnce: WarnOnce,
): (req: Req) => string | undefined {
  const { framework } = source;
  const problems = clientIpProblems(option ?? 'framework', trustedProxies, framework !== undefined);
  if (problems.length > 0) throw new IpMatchConfigError('clientIp options', problems);
  if (typeof option === 'function') return option;
  if (option === 'request-ip') return fromRequestIp(source.raw, trustedProxies ?? [], warnOnce);
  if (option !== undefined && option !== 'framework') return fromHeader(source.raw, option);
  return fromFramework({ raw: source.raw, framework: framework! }, warnOnce);
}
