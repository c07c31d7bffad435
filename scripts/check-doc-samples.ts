/**
 * `npm run lint` runs this: every ```ts block of README.md, SECURITY.md, bench/README.md and docs/**\/*.md is
 * type-checked as a module of its own that imports the package by its public names (`ipmatch`,
 * `ipmatch/express`…, mapped to src/ by tsconfig.json's `paths`). A renamed option fails here, naming the page
 * and line of the sample. They are checked with `exactOptionalPropertyTypes` on, as the strictest users compile,
 * so that `keySecret: process.env.X` in a sample proves that the option accepts `undefined`.
 *
 * Write samples that compile as they stand: imports included, no `…` in code. For the rare exceptions, one HTML
 * comment on the line above the fence (GitHub does not render it):
 *   <!-- sample: prelude express-app -->    prepend declarations from scripts/docs/preludes.ts (e.g. `app`)
 *   <!-- sample: continues -->              the block extends the previous ```ts block on the page
 *   <!-- sample: listing [module] -->       a listing of public types (default module `ipmatch`): each one
 *                                           must agree with the real export of that name, field by field
 *   <!-- sample: ignore: <why> -->          not checked; keep these rare, and say why
 * A ```js (or jsx, tsx…) block is an error unless ignored: samples are TypeScript so that they get checked.
 */
import { fileURLToPath } from 'node:url';
import { readPages } from './docs/pages.js';
import { collectSamples, typeCheckSamples } from './docs/samples.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const started = performance.now();
const { samples, problems, ignored } = collectSamples(readPages(root));
const errors = [...problems, ...typeCheckSamples(root, samples)];
const took = ((performance.now() - started) / 1000).toFixed(1);
if (errors.length > 0) {
  console.error(errors.join('\n'));
  console.error(
    `\ndoc samples: ${errors.length} error(s) in ${samples.length} samples (${took} s). ` +
      'Each ```ts block is type-checked as a module against the public package names; the conventions ' +
      'for partial samples are at the top of scripts/check-doc-samples.ts.',
  );
  process.exit(1);
}
console.log(`doc samples: ${samples.length} type-checked, ${ignored} ignored (${took} s)`);
