/**
 * Declarations a deliberately partial sample may lean on, named in `<!-- sample: prelude <name> -->`. Only
 * `declare`s and type imports under `__` names: a prelude never runs, and never clashes with a sample's imports.
 * Prefer a complete sample; add a prelude only when the surrounding page already shows the setup.
 */
export const PRELUDES: Record<string, string> = {
  /** An Express app, as built in the quick start. */
  'express-app': "declare const app: import('express').Express;",
  /** A core shared by several routes, as `createIpMatch()` returns. */
  core: "declare const core: import('ipmatch').IpMatch;",
  /** Deno's global, reduced to what a fetch-handler sample uses (Deno's own types are not installed here). */
  deno: 'declare const Deno: { serve(handler: (request: Request) => Response | Promise<Response>): unknown };',
  /** Bun's global, likewise. */
  bun: 'declare const Bun: { serve(options: { port?: number; fetch(request: Request): Response | Promise<Response> }): unknown };',
};
