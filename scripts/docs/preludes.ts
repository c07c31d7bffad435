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
};
