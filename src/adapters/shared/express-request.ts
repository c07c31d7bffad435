/** What ipmatch reads of an Express request (its IP, its app's trust, its route) and where it stores the decision. */
import { IncomingMessage } from 'node:http';
import type { Application, Request } from 'express';
import type { IpMatchDecision } from '../../core/types.js';
import type { ProxyTrust } from './client-ip-types.js';
import { expressIp } from './express-ip.js';
import type { Framework } from './route.js';
import { announcesBody, NO_BODY_PARSER, UnreadBody } from './unread-body.js';

/**
 * What ipMatch reads of a request's Express app, found through the request's prototype.
 *
 * Express 5 gives every request a hidden class (map) of its own, because `app.handle` sets the request's
 * prototype to `app.request`. Every property read on `req` then misses V8's caches, and every property added
 * to it builds yet another hidden class: a few microseconds and some old-generation garbage per request. So:
 * - the app is found as `Object.getPrototypeOf(req).app` (a plain object with a stable shape), not `req.app`;
 * - the decision is kept in a WeakMap, and `req.ipMatch` is a getter on Express's request prototype, as
 *   `req.ip` is: reading it is the same to a handler, and storing it adds nothing to the request object.
 */
export interface ExpressRequestState {
  /** The app's `trust proxy`, reduced to what the client-IP code needs. */
  trust: ProxyTrust;
  /** Whether `req.ipMatch` reads the WeakMap for this request's prototype. */
  getter: boolean;
  /** The request's app, when the request was made by Express (its prototype is the app's `app.request`). */
  app: Application | undefined;
}

const decisions = new WeakMap<object, IpMatchDecision>();

const descriptor: PropertyDescriptor = {
  configurable: true,
  enumerable: false,
  get(this: object) {
    return decisions.get(this);
  },
  set(this: object, value: IpMatchDecision) {
    decisions.set(this, value);
  },
};

/** Express's base request prototype (every app's `app.request` inherits from it), or null if not found. */
function baseRequest(proto: object): object | null {
  let p: object | null = proto;
  for (let depth = 0; p && depth < 8; depth++) {
    const parent = Object.getPrototypeOf(p) as object | null;
    if (parent === IncomingMessage.prototype) return p;
    p = parent;
  }
  return null;
}

function installGetter(proto: object): boolean {
  const base = baseRequest(proto);
  if (!base) return false;
  if (Object.hasOwn(base, 'ipMatch'))
    return Object.getOwnPropertyDescriptor(base, 'ipMatch')?.get === descriptor.get;
  try {
    Object.defineProperty(base, 'ipMatch', descriptor);
    return true;
  } catch {
    return false;
  }
}

function trustOf(app: Application | undefined): ProxyTrust {
  if (!app) return 'off';
  // The raw setting: false/0/undefined trust nothing, true trusts every hop, anything else some proxies.
  const setting: unknown = app.get('trust proxy');
  return !setting ? 'off' : setting === true ? 'all' : 'some';
}

const byPrototype = new WeakMap<object, ExpressRequestState>();
let lastPrototype: object | null = null;
let lastState: ExpressRequestState | undefined;

/**
 * The state of `req`'s app, computed once per app (per `app.request` prototype). A request not made by
 * Express (a test's plain object) has no such prototype: its own `app` is read, and nothing is installed.
 */
export function requestState(req: Request): ExpressRequestState {
  const proto = Object.getPrototypeOf(req) as object | null;
  if (proto === lastPrototype && lastState) return lastState;
  const app = proto && Object.hasOwn(proto, 'app') ? (proto as { app?: Application }).app : undefined;
  if (!proto || !app || (app as { request?: unknown }).request !== proto) {
    return { trust: trustOf(req.app as Application | undefined), getter: false, app: undefined };
  }
  let state = byPrototype.get(proto);
  if (!state) {
    state = { trust: trustOf(app), getter: installGetter(proto), app };
    byPrototype.set(proto, state);
  }
  lastPrototype = proto;
  lastState = state;
  return state;
}

/**
 * The parsed body. Express 5 leaves req.body unset until a body parser runs, and sets it (maybe undefined)
 * when one does: undefined then, with a body sent, is a content type the mounted parsers skip.
 */
export function parsedBody(req: Request): unknown {
  const body: unknown = req.body;
  if (body !== undefined) return body;
  if (!('body' in req)) return NO_BODY_PARSER;
  return announcesBody(req.headers) ? UnreadBody.unsupported : undefined;
}

/** Stores the decision where `req.ipMatch` reads it. */
export function storeDecision(req: Request, decision: IpMatchDecision): void {
  if (requestState(req).getter) decisions.set(req, decision);
  else req.ipMatch = decision;
}

/**
 * The matched route's pattern under its router's mount path: '/api' + '/users/:id'. Mounted with `app.use()`,
 * ipMatch runs before any route matched, so only the mount path is known.
 */
function routePattern(req: Request): string | null {
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path === 'string') return req.baseUrl + path;
  return req.baseUrl || null;
}

/**
 * Express as the route code reads it. Everything the route and the client-IP code call per request is here,
 * below the entry file, so that no call goes back up into express.ts.
 */
export const expressFramework: Framework<Request> = {
  name: 'ipMatch (ipmatch/express)',
  bodyParsers: 'express.json() or express.urlencoded()',
  ip: {
    // An Express request is Node's IncomingMessage: its headers and socket are read as they are.
    raw: (req) => req,
    framework: {
      // req.ip's answer, without proxy-addr parsing the trusted proxy's address on every request (express-ip.ts).
      ip: (req) => {
        const { app } = requestState(req);
        return app ? expressIp(req, app) : req.ip;
      },
      trust: (req) => requestState(req).trust,
      advice: {
        enableTrust: "app.set('trust proxy', …) set to its address or hop count (e.g. 'loopback' or 1)",
        restrictTrust:
          "set app.set('trust proxy', …) to your proxies' addresses (e.g. 'loopback') or a hop count (e.g. 1)",
      },
    },
  },
  routePattern,
  method: (req) => req.method,
};
