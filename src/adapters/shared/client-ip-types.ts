/** What the client-IP code reads of a request and a framework, and how it warns: the types its files share. */

/**
 * Where the client IP comes from: the framework's trusted IP, X-Forwarded-For walked from the socket peer
 * through `trustedProxies` ('request-ip'), a header that the platform in front sets (its right-most entry), or
 * a function.
 */
export type ClientIpOption<Req> =
  | 'framework'
  | 'request-ip'
  | (string & {})
  | ((req: Req) => string | undefined);

/** How far a framework trusts proxy headers: not at all, some proxies, or every hop (forgeable). */
export type ProxyTrust = 'off' | 'some' | 'all';

/**
 * The part of Node's `IncomingMessage` that the client-IP code reads (request-ip reads the same). Node
 * frameworks pass the request itself; fetch-standard ones a view of the `Request`'s headers and the runtime's
 * peer.
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
  /** How to give this runtime's requests a peer, said when 'request-ip' or `trustedProxies` meet a request without one. */
  noPeerAdvice?: string;
}

/**
 * What an adapter tells the client-IP code about its framework's client IP. Express: `req.ip` and
 * `trust proxy`; Koa: `ctx.ip`, `app.proxy` and `maxIpsCount`; Fastify: `request.ip` and `trustProxy`.
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
