/** The IP-nature dataset's public surface for the signals and the updater: compile, write, read, look up. */

export { BUNDLED_NATURE_FILE, bundledNaturePath } from './bundled.js';
export { type CompiledNature, compileNature, defaultNetwork, type NatureSource } from './compile.js';
export {
  NATURE_FORMAT,
  type NatureHeader,
  type ReadHow,
  readNatureColumns,
  writeNatureTable,
} from './format.js';
export { loadBundledNatureTable, loadNatureTable } from './load.js';
export { NatureTable } from './table.js';
export {
  FEED_KIND,
  FEED_NAMES,
  type FeedInput,
  type FeedName,
  type FeedSummary,
  NATURE_KINDS,
  type NatureKind,
  type NatureMatch,
  type NatureRange,
} from './types.js';
