import autocannon from 'autocannon';
import type { Signup } from './streams.js';

export interface Burst {
  /** Responses received. */
  requests: number;
  /** Responses per second over the burst. */
  rps: number;
  /** Connection errors and timeouts (a healthy run has none). */
  errors: number;
  /** Answers other than 2xx (the blocked signups: 403). */
  non2xx: number;
}

/** Client connections: enough to keep one server core busy while the load generator shares the machine. */
export const CONNECTIONS = 16;

/**
 * A burst of POST /signup for `seconds`, each request the next signup of `next()`: a JSON body with the
 * phone, and the client IP in X-Forwarded-For.
 */
export async function burst(
  port: number,
  next: () => Signup,
  seconds: number,
  connections = CONNECTIONS,
): Promise<Burst> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: seconds,
    // autocannon stops on its next sample tick after `duration` (1 s by default): tick often, so that a burst
    // lasts what it is asked to.
    sampleInt: 100,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: '/signup',
        setupRequest(request) {
          const s = next();
          request.headers = { 'content-type': 'application/json', 'x-forwarded-for': s.ip };
          request.body = `{"name":"Ada Lovelace","email":"ada@example.com","phone":"${s.phone}"}`;
          return request;
        },
      },
    ],
  });
  return {
    requests: result.requests.total,
    rps: result.requests.total / result.duration,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}
