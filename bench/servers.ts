/** The route servers of the bench (route-server.ts builds them), apart so that importing them starts none. */

export type Framework = 'express' | 'koa' | 'fastify' | 'hono';
/** What a server stands for: a framework's baseline, its floor, ipmatch on it, or another anchor. */
export type Role = 'bare' | 'floor' | 'ipmatch' | 'anchor';

/** Every server the bench can start, with its framework and role; a new framework also needs route-server.ts. */
export const SERVER_KINDS = {
  bare: { framework: 'express', role: 'bare' },
  floor: { framework: 'express', role: 'floor' },
  ipmatch: { framework: 'express', role: 'ipmatch' },
  'rate-limit': { framework: 'express', role: 'anchor' },
  naive: { framework: 'express', role: 'anchor' },
  // ipMatch() with an onDecision: a no-op (what the decision context costs), and decisionLog() to a file.
  'ipmatch-listen': { framework: 'express', role: 'anchor' },
  'ipmatch-log': { framework: 'express', role: 'anchor' },
  // ipMatch() with `velocity: false`: judged against the same floor, reported beside the default (what velocity costs).
  'ipmatch-novelocity': { framework: 'express', role: 'ipmatch', velocityOff: true },
  'koa-bare': { framework: 'koa', role: 'bare' },
  'koa-floor': { framework: 'koa', role: 'floor' },
  'koa-ipmatch': { framework: 'koa', role: 'ipmatch' },
  'koa-ipmatch-novelocity': { framework: 'koa', role: 'ipmatch', velocityOff: true },
  'fastify-bare': { framework: 'fastify', role: 'bare' },
  'fastify-floor': { framework: 'fastify', role: 'floor' },
  'fastify-ipmatch': { framework: 'fastify', role: 'ipmatch' },
  'hono-bare': { framework: 'hono', role: 'bare' },
  'hono-floor': { framework: 'hono', role: 'floor' },
  'hono-ipmatch': { framework: 'hono', role: 'ipmatch' },
} as const satisfies Record<string, { framework: Framework; role: Role; velocityOff?: true }>;
export type ServerKind = keyof typeof SERVER_KINDS;

/** An ipmatch server with `velocity: false`: reported beside the default, not judged (the targets are for every default signal on). */
export const velocityOff = (kind: ServerKind): boolean => 'velocityOff' in SERVER_KINDS[kind];
