/** `updateDatabase`, loading the updater (downloads, archives, feeds: ~50 KB) on its first call, not at import. */
import type { NatureUpdateResult, UpdateOptions, UpdateResult } from './update.js';

/**
 * Downloads fresh GeoIP data into the data dir, verified and validated, and installs it atomically; running
 * providers that read the data dir pick it up at their next reload. Node only.
 *
 * Resolves `up_to_date` without downloading the database when the published checksum is the installed
 * file's. Rejects with `IpMatchConfigError` for options that cannot work and `IpMatchDataError` (with a
 * `code`) when the update failed; the installed data is then untouched.
 *
 * Without `dataset` it updates both datasets (the country data first: when it fails, the IP-nature data is
 * not tried) and the country result carries `ipNature`; with `dataset: 'ip-nature'` it resolves the IP-nature
 * result alone. An IP-nature feed that fails keeps its previous ranges and is reported in `feeds`; it rejects
 * (`no_feed_usable`) only when no feed could be used at all.
 *
 * @example
 * const result = await updateDatabase({ source: 'user-country' });
 * console.log(result.status, result.buildDate);
 */
export async function updateDatabase(
  options: UpdateOptions & { dataset: 'ip-nature' },
): Promise<NatureUpdateResult>;
export async function updateDatabase(options?: UpdateOptions): Promise<UpdateResult>;
export async function updateDatabase(options?: UpdateOptions): Promise<UpdateResult | NatureUpdateResult> {
  const updater = await import('./update.js');
  return updater.updateDatabase(options);
}
