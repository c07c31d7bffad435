import type { Logger } from '../core/types.js';
import type { UpdateResult } from '../data/update.js';
import type { DataSource } from '../geodata/sources.js';

/** Twice a day: the daily sources are rebuilt once a day, and an unchanged checksum costs one small request. */
const INTERVAL_MS = 12 * 3_600_000;
/** The first run waits for the server to start, so that it never competes with start-up or first requests. */
const FIRST_RUN_MS = 5_000;

/**
 * `localProvider({ autoUpdate })`: runs the updater on a timer in this process and reloads after an update.
 * Never at import, never on the request path; failures are warnings (IPMATCH_DATA_UPDATE_FAILED) and the
 * data in use stays.
 */
export function startAutoUpdate(
  options: { source?: DataSource; intervalMs?: number },
  reload: () => Promise<boolean>,
  logger: Logger,
  // Tests point the updater at a loopback server and shorten the first wait; users cannot.
  internals: { update?: () => Promise<UpdateResult>; firstRunMs?: number } = {},
): { stop(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const update =
    internals.update ??
    (async () => {
      // Loaded on the first run only: an offline provider never pays for the updater's code.
      const { updateDatabase } = await import('../data/update.js');
      return updateDatabase(options.source === undefined ? {} : { source: options.source });
    });
  const run = async () => {
    try {
      const result = await update();
      if (result.status === 'updated') await reload();
    } catch (error) {
      logger.warn(
        `ipmatch: the automatic GeoIP update failed; the data in use stays: ${(error as Error).message}`,
        {
          code: 'IPMATCH_DATA_UPDATE_FAILED',
          error: (error as { code?: string }).code ?? 'error',
        },
      );
    }
    if (!stopped) schedule(options.intervalMs ?? INTERVAL_MS);
  };
  const schedule = (delay: number) => {
    timer = setTimeout(() => void run(), delay);
    timer.unref?.();
  };
  schedule(internals.firstRunMs ?? FIRST_RUN_MS);
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
