/** Express's `req.ip` (proxy-addr over X-Forwarded-For) computed the same way, with each address's trust remembered. */
import type { Application, Request } from 'express';

type TrustFn = (address: string | undefined, hop: number) => boolean;

/** Trust answers remembered per compiled `trust proxy fn`; cleared whole when full. */
const REMEMBERED_MAX = 1024;

/**
 * How one app's trust is asked. `app.set('trust proxy', …)` compiles its setting into `trust proxy fn`:
 * - a string or an array (addresses, CIDRs, 'loopback'…) becomes proxy-addr's compiled test, which depends on
 *   the address alone and parses it with ipaddr.js on every call (most of what `req.ip` costs): its answers are
 *   remembered by address;
 * - `true`, a hop count or the user's own function are called as proxy-addr calls them, in the same order.
 */
interface AppTrust {
  fn: TrustFn;
  remembered: Map<string | undefined, boolean> | undefined;
}

const byApp = new WeakMap<Application, AppTrust>();

function trustOf(app: Application): AppTrust {
  const fn = app.get('trust proxy fn') as TrustFn;
  let trust = byApp.get(app);
  if (trust?.fn === fn) return trust;
  const setting: unknown = app.get('trust proxy');
  const addressOnly = typeof setting === 'string' || Array.isArray(setting);
  trust = { fn, remembered: addressOnly ? new Map() : undefined };
  byApp.set(app, trust);
  return trust;
}

function trusted(trust: AppTrust, address: string | undefined, hop: number): boolean {
  const remembered = trust.remembered;
  if (remembered === undefined) return trust.fn(address, hop);
  let answer = remembered.get(address);
  if (answer === undefined) {
    answer = trust.fn(address, hop);
    if (remembered.size >= REMEMBERED_MAX) remembered.clear();
    remembered.set(address, answer);
  }
  return answer;
}

/**
 * X-Forwarded-For's entries, right to left, as the `forwarded` package under proxy-addr splits them: on commas,
 * spaces around an entry dropped (spaces inside kept), empty entries skipped.
 */
function entries(header: string): string[] {
  const list: string[] = [];
  let end = header.length;
  let start = end;
  for (let i = header.length - 1; i >= 0; i--) {
    const c = header.charCodeAt(i);
    if (c === 0x20) {
      if (start === end) {
        start = i;
        end = i;
      }
    } else if (c === 0x2c) {
      if (start !== end) list.push(header.substring(start, end));
      start = i;
      end = i;
    } else {
      start = i;
    }
  }
  if (start !== end) list.push(header.substring(start, end));
  return list;
}

/**
 * `req.ip` on an app with proxy trust on, as Express 5 computes it: the socket peer, then X-Forwarded-For from the
 * right, up to the first address its `trust proxy fn` does not trust, or the left-most one. `app` is the request's
 * app (its prototype's). The same answer as `req.ip` for every header and setting (test/adapters/express-ip.test.ts
 * holds it to proxy-addr), without parsing a trusted proxy's address again on every request.
 */
export function expressIp(req: Request, app: Application): string | undefined {
  const trust = trustOf(app);
  const peer = req.socket
    ? req.socket.remoteAddress
    : (req as { connection?: Request['socket'] }).connection?.remoteAddress;
  const header: unknown = req.headers['x-forwarded-for'];
  if (!header) return peer;
  // Node joins repeated X-Forwarded-For headers into one string; anything else is left to Express itself.
  if (typeof header !== 'string') return req.ip;
  if (header.indexOf(',') === -1) {
    // One entry, as behind one proxy: the spaces around it dropped as `forwarded` drops them, and no list built.
    let start = 0;
    let end = header.length;
    while (start < end && header.charCodeAt(start) === 0x20) start++;
    while (end > start && header.charCodeAt(end - 1) === 0x20) end--;
    if (start === end) return peer;
    if (!trusted(trust, peer, 0)) return peer;
    return start === 0 && end === header.length ? header : header.substring(start, end);
  }
  const hops = entries(header);
  if (hops.length === 0) return peer;
  if (!trusted(trust, peer, 0)) return peer;
  const last = hops.length - 1;
  for (let i = 0; i < last; i++) {
    if (!trusted(trust, hops[i], i + 1)) return hops[i];
  }
  return hops[last];
}
