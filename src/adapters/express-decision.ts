import { IncomingMessage } from 'node:http';
import type { Application, Request } from 'express';
import type { IpMatchDecision } from '../core/types.js';

/**
 * Where `req.ipMatch` lives. Express 5 gives every request a map (hidden class) of its own, because
 * `app.handle` swaps the request's prototype; each property a middleware then adds to `req` builds yet another
 * map, a few microseconds and some old-generation garbage per request. So the decision is kept in a WeakMap,
 * and `req.ipMatch` is a getter on Express's request prototype, as `req.ip` is: reading it is the same to a
 * handler, and storing it adds nothing to the request object.
 */
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
function baseRequest(app: Application): object | null {
  let proto: object | null = (app as { request?: object }).request ?? null;
  for (let depth = 0; proto && depth < 8; depth++) {
    const parent = Object.getPrototypeOf(proto) as object | null;
    if (parent === IncomingMessage.prototype) return proto;
    proto = parent;
  }
  return null;
}

const installed = new WeakMap<Application, boolean>();

/** Whether `req.ipMatch` reads from the WeakMap for requests of `app`; installs the getter on first sight. */
function getterFor(app: Application): boolean {
  let ok = installed.get(app);
  if (ok === undefined) {
    const base = baseRequest(app);
    ok = base !== null && (Object.hasOwn(base, 'ipMatch') || tryDefine(base));
    installed.set(app, ok);
  }
  return ok;
}

function tryDefine(base: object): boolean {
  try {
    Object.defineProperty(base, 'ipMatch', descriptor);
    return true;
  } catch {
    return false;
  }
}

/** Stores the decision where `req.ipMatch` reads it. */
export function storeDecision(req: Request, decision: IpMatchDecision): void {
  const app = req.app as (Application & { request?: object }) | undefined;
  // A request that went through app.handle has app.request as its prototype; a hand-made one stores directly.
  if (app && getterFor(app) && Object.getPrototypeOf(req) === app.request) decisions.set(req, decision);
  else req.ipMatch = decision;
}
