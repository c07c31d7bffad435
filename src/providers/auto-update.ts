/** `localProvider({ autoUpdate })`: the updater it is handed, run on a timer, and a reload after an update. */
import type { Logger } from '../core/types.js';
import type { DataSource } from '../geodata/sources.js';

/**
 * Downloads and installs fresh data into the data dir, and says whether the file changed: `updateDatabase`,
 * which the entry point (`src/index.ts`) hands to `localProvider`, so that providers/ never imports data/.
 */
export type Updater = (options: { source?: DataSource }) => Promise<{ status: 'updated' | 'up_to_date' }>;

/** Twice a day: the daily sources are rebuilt once a day, and an unchanged checksum costs one small request. */
const INTERVAL_MS = 12 * 3_600_000;
/** The first run waits for the server to start, so that it never competes with start-up or first requests. */
const FIRST_RUN_MS = 5_000;

/**
 * Runs `update` every `intervalMs` in this process and reloads after an update. Never at import, never on the
 * request path; failures are warnings (IPMATCH_DATA_UPDATE_FAILED) and the data in use stays.
 */
export function startAutoUpdate(
  options: { source?: DataSource; intervalMs?: number },
  update: Updater,
  reload: () => Promise<boolean>,
  logger: Logger,
  // Tests shorten the first wait; users cannot.
  timing: { firstRunMs?: number } = {},
): { stop(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const run = async () => {
    try {
      const result = await update(options.source === undefined ? {} : { source: options.source });
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
  schedule(timing.firstRunMs ?? FIRST_RUN_MS);
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
