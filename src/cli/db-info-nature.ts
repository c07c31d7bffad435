/** `ipmatch db`'s IP-nature section: which table is in use, how old it is, and each feed's age and ranges. */
import { type NatureManifest, readNatureManifest } from '../data/nature-manifest.js';
import { bundledNaturePath, loadNatureTable, type NatureTable } from '../geodata/nature/index.js';
import { NATURE_MAX_AGE_DAYS, naturePathInDataDir } from '../geodata/nature-files.js';

const DAY_MS = 86_400_000;

/** What `ipmatch db --json` says of the IP-nature data under `ipNature`. */
export interface NatureInfo {
  /** The file the signals read: the data dir's `ip-nature.bin` when it loads, else the bundled snapshot. */
  path: string;
  origin: 'data dir' | 'bundled';
  builtAt: string;
  ageDays: number;
  maxAgeDays: number;
  feeds: Array<{
    name: string;
    kind: string;
    version: string | null;
    ranges: number;
    skipped: number;
    /** When its ranges were downloaded; null for the snapshot's. */
    fetchedAt: string | null;
    /** Days since it was fetched, else since the date its version names, else since the build; null if none. */
    ageDays: number | null;
  }>;
}

const daysSince = (iso: string | undefined | null, now: number): number | null => {
  const t = iso ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(t) ? null : Math.max(0, Math.floor((now - t) / DAY_MS));
};

/** The IP-nature data the signals read now, or null when neither the data dir's nor the bundled file loads. */
export async function natureInfo(dir: string, now = Date.now()): Promise<NatureInfo | null> {
  let table: NatureTable;
  let origin: NatureInfo['origin'] = 'data dir';
  let path = naturePathInDataDir(dir);
  let manifest: NatureManifest | null = null;
  try {
    table = loadNatureTable(path);
    manifest = await readNatureManifest(dir);
  } catch {
    try {
      path = bundledNaturePath();
      table = loadNatureTable(path);
      origin = 'bundled';
    } catch {
      return null;
    }
  }
  const h = table.header;
  return {
    path,
    origin,
    builtAt: h.builtAt,
    ageDays: daysSince(h.builtAt, now) ?? 0,
    maxAgeDays: NATURE_MAX_AGE_DAYS,
    feeds: h.feeds.map((f) => {
      const fetchedAt = manifest?.feeds.find((m) => m.name === f.name)?.fetchedAt ?? null;
      const versionDay = /\d{4}-\d{2}-\d{2}/.exec(f.version ?? '')?.[0];
      return {
        name: f.name,
        kind: f.kind,
        version: f.version,
        ranges: f.ranges,
        skipped: f.skipped,
        fetchedAt,
        ageDays: daysSince(fetchedAt ?? versionDay ?? h.builtAt, now),
      };
    }),
  };
}

const age = (days: number | null) =>
  days === null ? 'age unknown' : days === 1 ? '1 day old' : `${days} days old`;

/** The human lines: the file, its build and age, then one line per feed. */
export function formatNatureInfo(info: NatureInfo | null): string {
  if (info === null) return "ip-nature  no table loads (neither the data dir's nor the bundled one)\n";
  const stale =
    info.ageDays > info.maxAgeDays ? `, stale: over ${info.maxAgeDays} days (ipmatch db update)` : '';
  const width = Math.max(...info.feeds.map((f) => f.name.length));
  const feeds = info.feeds.map(
    (f) =>
      `  ${f.name.padEnd(width)}  ${f.kind.padEnd(7)}  ${String(f.ranges).padStart(6)} ranges  ${age(f.ageDays)}\n`,
  );
  return (
    `\nip-nature  ${info.origin}: ${info.path}\n` +
    `built      ${info.builtAt.slice(0, 10)} (${age(info.ageDays).replace(' old', ' ago')}${stale})\n` +
    `feeds\n${feeds.join('')}`
  );
}
