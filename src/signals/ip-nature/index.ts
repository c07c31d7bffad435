/** The `ip-nature` signals: `hosting`, `tor_exit`, `vpn`, `private_relay`, and `ip.network`, from offline lists. */
import { builtin } from '../../core/builtins.js';
import type { SignalSource } from '../../core/signal-source.js';
import type { Signal } from '../../core/signals.js';
import type { IpFacts, Logger } from '../../core/types.js';
import { bundledNaturePath, type NatureMatch, type NatureTable } from '../../geodata/nature/index.js';
import { NATURE_SIGNALS, signalsOf } from './signals-of.js';
import { NatureTableHolder, type NatureTableOptions } from './table-holder.js';

export { NatureTableHolder, type NatureTableOptions } from './table-holder.js';

const NONE: readonly Signal[] = Object.freeze([]);

/** The family as the core runs it, with its table holder (for reloads and `ipmatch db`). */
export interface IpNatureSource extends SignalSource {
  readonly table: NatureTableHolder;
}

/**
 * The family over one table. `locate` runs for every check with a public IP, right after its GeoIP country:
 * it names the list that matched in `ip.network` and, for an iCloud Private Relay egress, sets `ip.country` to
 * Apple's (the relay stands for the user's coarse location). `evaluate` gives the signals from the same lookup,
 * kept as a one-entry memo, so that a check looks up once and allocates nothing.
 */
export function ipNatureSource(options: NatureTableOptions, logger: Logger): IpNatureSource {
  const table = new NatureTableHolder(options, logger);
  let lastTable: NatureTable | null = null;
  let lastAddress: string | null = null;
  let lastMatch: NatureMatch | null = null;
  const lookup = (address: string): NatureMatch | null => {
    const current = table.get();
    if (address !== lastAddress || current !== lastTable) {
      lastMatch = current?.lookup(address) ?? null;
      lastAddress = address;
      lastTable = current;
    }
    return lastMatch;
  };
  return {
    name: 'ip-nature',
    signals: NATURE_SIGNALS,
    table,
    locate(ip: IpFacts): void {
      if (ip.address === null) return;
      const match = lookup(ip.address);
      if (match === null) return;
      ip.network = match.network;
      if (match.country !== null) ip.country = match.country;
    },
    // Only a located IP (public, with a network named) carries nature signals.
    evaluate: ({ ip }) =>
      ip.network === null || ip.address === null ? NONE : signalsFor(lookup(ip.address)),
    async close() {
      table.close();
    },
    async ready() {
      // The first lookups are the slow ones (the JIT): pay them here, as the GeoIP reader does.
      table.load().lookup('81.2.69.160');
    },
  };
}

const signalsFor = (match: NatureMatch | null): readonly Signal[] => (match ? signalsOf(match) : NONE);

/** The provider's `ipNature` option, when it has one (localProvider): false turns the family off. */
type NatureSetting = false | NatureTableOptions | undefined;

/**
 * The family for a core, from its provider's `ipNature` setting: none when it is `false`; the given data; else
 * the bundled snapshot, where the runtime has files (on Workers, pass `localProvider({ ipNature: { database:
 * bytes } })`, as for the GeoIP data).
 */
export function ipNatureFor(provider: object, logger: Logger): SignalSource[] {
  const setting = (provider as { ipNature?: NatureSetting }).ipNature;
  if (setting === false) return [];
  const options = setting ?? {};
  if (options.database === undefined && !bundledReadable()) return [];
  return [ipNatureSource(options, logger)];
}

let bundled: boolean | undefined;
/**
 * Whether this runtime can read the bundled snapshot: files, and a package it can resolve itself in. Workers
 * offer `node:fs` and `node:module` under nodejs_compat, but neither the package's files nor `require.resolve`.
 */
function bundledReadable(): boolean {
  if (bundled === undefined) {
    try {
      bundled = builtin('node:fs')?.existsSync(bundledNaturePath()) === true;
    } catch {
      bundled = false;
    }
  }
  return bundled;
}
