/** The fake Vonage's HTTP harness: a loopback server that records each request and injects the faults asked for. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, STATUS_CODES } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { FakeVonageBehaviour, FakeVonageFaultMix, FakeVonageRequest } from './fake-vonage-types.js';

/** An answer before the harness sends it: a 200's body is what `truncate` cuts in half. */
export interface FakeAnswer {
  status: number;
  body: string;
}

/** One API the harness serves: it records a request (keeping no secret), then answers it. */
export interface FakeApi {
  record(req: IncomingMessage, url: URL, body: string): FakeVonageRequest;
  /** The answer under `b`, the behaviour in force for this request. */
  answer(request: FakeVonageRequest, b: FakeVonageBehaviour): FakeAnswer;
}

export interface FakeServerSetup {
  /** The API that records and answers a path (its `api` may say null: the harness answers 404). */
  apiFor(path: string): FakeApi;
  /** The behaviour for one recorded request: the switches in force, a drawn fault, the test's override. */
  behaviourFor(request: FakeVonageRequest): FakeVonageBehaviour;
}

/** The running harness: what it has seen, and how to stop it. */
export interface FakeServer {
  readonly url: string;
  readonly requests: FakeVonageRequest[];
  readonly connections: number;
  readonly openConnections: number;
  readonly inFlight: number;
  close(): Promise<void>;
}

/** The key a number's overrides are kept under: its digits, so '+44 7700 900123' and '447700900123' are one. */
export const digits = (n: string) => n.replace(/\D/g, '');

/** One fault drawn from `mix` with `random`, or none; the probabilities are consumed in a fixed order. */
export function drawFault(
  mix: FakeVonageFaultMix | undefined,
  random: () => number,
): Partial<FakeVonageBehaviour> {
  if (!mix) return {};
  let roll = random();
  const picks: [keyof FakeVonageFaultMix, Partial<FakeVonageBehaviour>][] = [
    ['hang', { hang: true }],
    ['drop', { drop: true }],
    ['http502', { httpStatus: 502 }],
    ['truncated', { truncate: true }],
    ['throttle', { status: 1 }],
  ];
  for (const [name, behaviour] of picks) {
    roll -= mix[name] ?? 0;
    if (roll < 0) return behaviour;
  }
  return {};
}

/** An HTTP error body in either shape Vonage has been seen to send. */
export function errorBody(statusCode: number, title: string, shape: 'problem' | 'camara'): string {
  if (shape === 'camara') {
    const code = title
      .toUpperCase()
      .replace(/[^A-Z]+/g, '_')
      .replace(/^_|_$/g, '');
    return JSON.stringify({ status: statusCode, code, message: title });
  }
  return JSON.stringify({
    type: 'about:blank',
    title,
    detail: title,
    instance: `/identity-insights/${statusCode}`,
  });
}

/** Request headers as recorded: lower-cased, joined, and without `authorization`. */
export function headersOf(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (k !== 'authorization' && v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return headers;
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Listens on 127.0.0.1 (a free port). Each request is recorded, then, after `latencyMs`, hung, dropped,
 * answered with the forced HTTP status or raw body, answered 404 when no API owns its path, or handed to its API.
 */
export async function startFakeServer(setup: FakeServerSetup): Promise<FakeServer> {
  const requests: FakeVonageRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let connections = 0;
  let inFlight = 0;

  function respond(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const api = setup.apiFor(url.pathname);
    const request = api.record(req, url, body);
    requests.push(request);
    inFlight++;
    res.once('close', () => inFlight--);
    const b = setup.behaviourFor(request);
    if (b.hang) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (b.drop) return void req.socket.destroy();
      if (b.httpStatus !== undefined && b.httpStatus !== 200) {
        const problem = errorBody(b.httpStatus, STATUS_CODES[b.httpStatus] ?? 'Error', b.errorShape);
        return send(res, b.httpStatus, b.body ?? problem);
      }
      if (b.body !== undefined) return send(res, 200, b.body);
      if (request.api === null) return send(res, 404, JSON.stringify({ title: 'Not Found' }));
      const answer = api.answer(request, b);
      const cut = answer.status === 200 && b.truncate;
      send(res, answer.status, cut ? answer.body.slice(0, Math.floor(answer.body.length / 2)) : answer.body);
    }, b.latencyMs);
    timers.add(timer);
  }

  const server = createServer((req, res) => {
    let form = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      if (form.length < 65_536) form += chunk;
    });
    req.on('end', () => respond(req, res, req.method === 'POST' ? form : ''));
  });
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get connections() {
      return connections;
    },
    get openConnections() {
      return sockets.size;
    },
    get inFlight() {
      return inFlight;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = [new Promise<void>((resolve) => server.close(() => resolve()))];
      for (const s of sockets) {
        closed.push(new Promise<void>((resolve) => s.once('close', () => resolve())));
        s.destroy();
      }
      await Promise.all(closed);
    },
  };
}
