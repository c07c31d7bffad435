import { IncomingMessage } from 'node:http';
import type { Application, Request } from 'express';
import type { IpMatchDecision } from '../../core/types.js';
import type { ProxyTrust } from './client-ip.js';

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
    return { trust: trustOf(req.app as Application | undefined), getter: false };
  }
  let state = byPrototype.get(proto);
  if (!state) {
    state = { trust: trustOf(app), getter: installGetter(proto) };
    byPrototype.set(proto, state);
  }
  lastPrototype = proto;
  lastState = state;
  return state;
}

/** Stores the decision where `req.ipMatch` reads it. */
export function storeDecision(req: Request, decision: IpMatchDecision): void {
  if (requestState(req).getter) decisions.set(req, decision);
  else req.ipMatch = decision;
}
