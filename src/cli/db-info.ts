/** `ipmatch db`: which GeoIP and IP-nature data are in use, why, and what the data dir's manifests say. */
import { type Manifest, readManifest } from '../data/manifest.js';
import { resolveDataDir } from '../geodata/dir.js';
import type { GeoIpInfo } from '../providers/geoip/index.js';
import { localProvider } from '../providers/local.js';
import type { Command } from './args.js';
import { formatNatureInfo, natureInfo } from './db-info-nature.js';
import { lines } from './format.js';
import type { CliIo } from './io.js';

type Db = Extract<Command, { kind: 'db' }>;

/** The GeoIP data in use, which file was chosen and why, and what the data dir's manifest says. */
export function formatInfo(info: GeoIpInfo, dataDir: string, manifest: Manifest | null): string {
  const yesNo = (b: boolean) => (b ? 'yes' : 'no');
  const days = info.ageDays === 1 ? 'day' : 'days';
  return lines([
    ['source', info.source],
    ['type', info.databaseType],
    ['built', `${info.buildDate.slice(0, 10)} (${info.ageDays} ${days} ago)`],
    ['ipv4', yesNo(info.ipv4)],
    ['ipv6', yesNo(info.ipv6)],
    ['schema', info.schema],
    ['chosen', `${info.origin}: ${info.reason}`],
    ['data dir', dataDir],
    manifest ? ['updated', `${manifest.installedAt} from ${manifest.source} (${manifest.url})`] : undefined,
    manifest ? ['sha256', manifest.sha256] : undefined,
    manifest?.previous
      ? ['previous', `built ${manifest.previous.buildDate.slice(0, 10)} (ipmatch db rollback)`]
      : undefined,
  ]);
}

/** `ipmatch db`: the GeoIP data in use, the data dir's facts, then the IP-nature data and its feeds. */
export async function runDbInfo(command: Db, io: CliIo): Promise<number> {
  const provider = localProvider(
    command.database === undefined ? {} : { database: command.database, reload: false },
  );
  // Messages only: the metadata objects are for log pipelines, and stdout must stay the result alone.
  const say = (msg: string) => io.stderr(`${msg}\n`);
  provider.attach?.({ logger: { warn: say, error: say } });
  try {
    const info = provider.info();
    const { dir } = resolveDataDir(undefined, io.env);
    const manifest = await readManifest(dir);
    const ipNature = await natureInfo(dir);
    io.stdout(
      command.json
        ? `${JSON.stringify({ ...info, dataDir: dir, manifest, ipNature })}\n`
        : formatInfo(info, dir, manifest) + formatNatureInfo(ipNature),
    );
    return 0;
  } finally {
    await provider.close?.();
  }
}
