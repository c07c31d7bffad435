/** The remote provider both Vonage APIs build on: one retry, the breaker, the budget, errors as ProviderError. */
import { ProviderError } from '../core/errors.js';
import { consoleLogger } from '../core/logger.js';
import { createPhoneParser } from '../core/phone.js';
import type { IpMatchProvider, LookupRequest, PhoneLookup } from '../core/provider.js';
import { offlineLookup } from '../core/remote-down.js';
import type { Logger } from '../core/types.js';
import { CircuitBreaker } from './breaker.js';
import { openGeoIp } from './geoip/index.js';
import { LookupBudget } from './lookup-budget.js';
import { type RemoteAnswer, RemoteHttp, type RemoteRequest } from './remote-http.js';
import type { ParsedRemoteOptions } from './remote-options.js';

/** Retry back-off for throttling: jittered so that many servers throttled together do not retry together. */
const BACKOFF_MIN_MS = 100;
const BACKOFF_SPREAD_MS = 200;
/** A retry is only worth it if at least this much budget is left after the back-off. */
const MIN_ATTEMPT_MS = 50;

/** What one answer came to: facts, or a throttle worth one retry. Anything else is thrown as a ProviderError. */
export type Attempt =
  | { kind: 'data'; lookup: PhoneLookup }
  | { kind: 'throttled'; error: ProviderError; retryAfterS?: number };

/** What makes one remote API a provider: its request, its auth, how it reads an answer. The rest is shared. */
export interface RemoteService {
  /** Shown on decisions as `provider`. */
  name: string;
  /** Names the API in messages: 'Vonage', 'Vonage Identity Insights'. */
  label: string;
  /** See IpMatchProvider.cacheScope. */
  cacheScope: string;
  keyIncludesIp: boolean;
  /** See IpMatchProvider.roamingTtlMs. */
  roamingTtlMs?: number;
  /** The request for one lookup: method, path (with its query) and JSON body. */
  request(lookup: LookupRequest): { method: 'GET' | 'POST'; path: string; body?: string };
  /** The Authorization header's value; may sign (and cache) a token. */
  authorization(): string | Promise<string>;
  /** Reads a 2xx answer's JSON to `request`; throws ProviderError for an error the API states in its body. */
  read(json: unknown, request: LookupRequest, logger: Logger): Attempt;
  /** A short, secret-free label of a non-2xx answer's body (e.g. its error code), for the error message. */
  describeError?(body: string): string | undefined;
  /** Logged once, as an error, when the API rejects the credentials (HTTP 401, or a code that says so). */
  credentials: { message: string; meta?: object };
  /** Lets the service rewrite an error before it becomes a decision (e.g. to add a shutdown notice). */
  mapError?(error: unknown): unknown;
}

/**
 * A remote provider: the IP's country from local GeoIP data, the phone's facts from `service`, with one
 * implementation of what every Vonage API needs around the call: a keep-alive HTTP pool, the lookup budget, the
 * circuit breaker, one retry after throttling, credential failures logged once, and a clean close.
 */
export function remoteProvider(opts: ParsedRemoteOptions, service: RemoteService): IpMatchProvider {
  let logger: Logger = consoleLogger;
  const forward: Logger = {
    warn: (m, meta) => logger.warn(m, meta),
    error: (m, meta) => logger.error(m, meta),
  };
  const geo = openGeoIp(opts.geoip ?? {}, forward);
  const parsePhone = createPhoneParser({});
  const http = new RemoteHttp({
    baseUrl: opts.baseUrl,
    connections: opts.connections,
    service: service.label,
  });
  const closing = new AbortController();
  const breaker = opts.breaker === false ? undefined : circuitBreaker(opts.breaker, service.label, forward);
  const budget = lookupBudget(
    opts.maxLookupsPerMinute,
    opts.maxLookupsPerMinutePerIp,
    service.label,
    forward,
  );
  let credentialsReported = false;

  function reportCredentials(): void {
    if (credentialsReported) return;
    credentialsReported = true;
    forward.error(service.credentials.message, {
      code: 'IPMATCH_VONAGE_CREDENTIALS',
      ...service.credentials.meta,
    });
  }

  function httpError(res: RemoteAnswer): ProviderError {
    if (res.statusCode === 401) reportCredentials();
    const detail = service.describeError?.(res.body);
    return new ProviderError(
      `http_${res.statusCode}`,
      `${service.label} answered HTTP ${res.statusCode}${detail ? ` (${detail})` : ''}`,
      { upstream: res.statusCode >= 500 || res.statusCode === 408 },
    );
  }

  /** The headers of the current authorization: one object re-used while it lasts (a Basic header for ever, a JWT for minutes). */
  let headers: { authorization: string; json: boolean; value: Record<string, string> } | undefined;
  function headersFor(authorization: string, json: boolean): Record<string, string> {
    if (headers?.authorization === authorization && headers.json === json) return headers.value;
    const value: Record<string, string> = { authorization, accept: 'application/json' };
    if (json) value['content-type'] = 'application/json';
    headers = { authorization, json, value };
    return value;
  }

  /**
   * One request and its answer read. Written as plain promise chains rather than async functions: each await is a
   * promise and a microtask more on every remote check (the remote bench's profile had them at 6% of its samples).
   */
  function attempt(request: LookupRequest): Promise<Attempt> {
    const authorization = service.authorization();
    return typeof authorization === 'string'
      ? send(request, authorization)
      : authorization.then((value) => send(request, value));
  }

  function send(request: LookupRequest, authorization: string): Promise<Attempt> {
    const { method, path, body } = service.request(request);
    const sent: RemoteRequest = {
      method,
      path,
      headers: headersFor(authorization, body !== undefined),
      budget: request,
    };
    if (body !== undefined) sent.body = body;
    return http.request(sent, (res) => read(res, request));
  }

  function read(res: RemoteAnswer, request: LookupRequest): Attempt {
    if (res.statusCode === 429) {
      const error = new ProviderError('throttled', `${service.label} answered HTTP 429: too many requests`);
      return { kind: 'throttled', error, retryAfterS: res.retryAfterS };
    }
    if (res.statusCode < 200 || res.statusCode > 299) throw httpError(res);
    let json: unknown;
    try {
      json = JSON.parse(res.body);
    } catch {
      throw new ProviderError('invalid_response', `${service.label} answered with a body that is not JSON`);
    }
    try {
      return service.read(json, request, forward);
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'invalid_credentials') reportCredentials();
      throw error;
    }
  }

  /** One attempt, and one retry after a jittered back-off when throttled and the budget still has room. */
  function fetchLookup(request: LookupRequest): Promise<PhoneLookup> {
    const started = performance.now();
    let first: Promise<Attempt>;
    try {
      first = attempt(request);
    } catch (error) {
      return Promise.reject(error);
    }
    return first.then((got) => (got.kind === 'data' ? got.lookup : retry(request, got, started)));
  }

  async function retry(
    request: LookupRequest,
    first: Extract<Attempt, { kind: 'throttled' }>,
    started: number,
  ): Promise<PhoneLookup> {
    const backoffMs =
      first.retryAfterS !== undefined && first.retryAfterS > 0
        ? first.retryAfterS * 1000
        : BACKOFF_MIN_MS + Math.random() * BACKOFF_SPREAD_MS;
    const took = performance.now() - started;
    if (request.deadline - performance.now() < backoffMs + Math.max(took, MIN_ATTEMPT_MS)) throw first.error;
    const cut = await pause(backoffMs, AbortSignal.any([request.signal, closing.signal]));
    if (cut) {
      if (closing.signal.aborted) throw closedError();
      throw new ProviderError(
        'timeout',
        `${service.label} lookup cut by the time budget while waiting to retry`,
      );
    }
    const second = await attempt(request);
    if (second.kind === 'data') return second.lookup;
    throw second.error;
  }

  function closedError(): ProviderError {
    return new ProviderError('closed', `the ${service.label} provider is closed`, { upstream: false });
  }

  function guarded(request: LookupRequest): PhoneLookup | Promise<PhoneLookup> {
    if (closing.signal.aborted) return Promise.reject(closedError());
    // Past the budget: the offline facts, marked so that the core never caches them.
    if (budget?.take(request.clientIp)) return { ...offlineLookup(request.phone), budgetExceeded: true };
    if (!breaker) return fetchLookup(request);
    // A refused call cost nothing, so it does not count against the budget.
    return breaker.run(
      () => fetchLookup(request),
      () => budget?.refund(request.clientIp),
    );
  }

  const mapError = service.mapError;
  return {
    name: service.name,
    remote: true,
    keyIncludesIp: service.keyIncludesIp,
    cacheScope: service.cacheScope,
    ...(service.roamingTtlMs === undefined ? {} : { roamingTtlMs: service.roamingTtlMs }),
    attach(context) {
      logger = context.logger;
    },
    parsePhone,
    ipCountry: (address) => geo.country(address),
    ready: async () => geo.load(),
    lookup(request) {
      const got = guarded(request);
      if (!mapError || !(got instanceof Promise)) return got;
      return got.catch((error: unknown) => {
        throw mapError(error);
      });
    },
    async close() {
      closing.abort();
      geo.close();
      await http.close();
    },
  };
}

/** Waits `ms`; resolves true when `signal` cut the wait short. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (cut: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(cut);
    };
    const onAbort = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The breaker of one provider, logging when it opens and closes. */
function circuitBreaker(
  options: { failures: number; cooldownMs: number },
  label: string,
  logger: Logger,
): CircuitBreaker {
  return new CircuitBreaker({
    ...options,
    onChange(state, failures) {
      if (state === 'open') {
        logger.warn(
          `ipmatch: ${label} circuit open after ${failures} consecutive failures; lookups skip ${label} for ${options.cooldownMs} ms`,
          { code: 'IPMATCH_CIRCUIT_OPEN' },
        );
      } else {
        logger.warn(`ipmatch: ${label} circuit closed: a probe lookup succeeded`, {
          code: 'IPMATCH_CIRCUIT_CLOSED',
        });
      }
    },
  });
}

/** The budget of one provider, warning once a minute (per limit) when it refuses lookups. */
function lookupBudget(
  perMinute: number | false,
  perMinutePerIp: number | false,
  label: string,
  logger: Logger,
) {
  if (perMinute === false && perMinutePerIp === false) return undefined;
  return new LookupBudget({
    perMinute,
    perMinutePerIp,
    onExceeded(limit, max) {
      const which =
        limit === 'ip'
          ? `one client IP reached maxLookupsPerMinutePerIp (${max})`
          : `all clients together reached maxLookupsPerMinute (${max})`;
      logger.warn(
        `ipmatch: ${label} lookup budget spent: ${which}; until the minute rolls on, its checks are decided on the ` +
          `offline data (provider 'local', budgetExceeded: true, degraded: true). Raise the limit if this is real traffic.`,
        { code: 'IPMATCH_LOOKUP_BUDGET', limit, max },
      );
    },
  });
}
