/** What new GeoIP data must pass before anyone reads it: build date, readable records, kept coverage. */
import { IpMatchDataError } from './errors.js';
import { type Mmdb, MmdbCorruptError } from './mmdb.js';
import { sampleNetworks, spreadAddresses } from './mmdb-sample.js';

/**
 * A build date up to a day ahead of this machine's clock is tolerated: publishers stamp builds in UTC
 * from their own clocks, and a server a few hours behind must not refuse today's file.
 */
const FUTURE_SLACK_MS = 86_400_000;

/**
 * The new data must answer at least this share of the sampled addresses that the installed data answers.
 * Sources disagree on which country a few percent of networks are in, not on whether those networks are
 * in a country at all, and between two daily builds of one source coverage moves by well under 1%. A
 * build that answers fewer than four in five has lost whole regions: a failed or cut-short export, not
 * a refresh. Set low enough that a move between sources (bundled → user-country → GeoLite2) passes.
 */
export const MIN_COVERAGE = 0.8;

/** Addresses sampled for the coverage check: the first networks of the installed tree and a spread over IPv4. */
const TREE_SAMPLE = 256;
const SPREAD_SAMPLE = 1024;

let spreadSample: string[] | undefined;
const spread = () => (spreadSample ??= spreadAddresses(SPREAD_SAMPLE));

/** The installed data's answer, or null where it cannot answer (a corrupt file being replaced). */
function readable(installed: Mmdb, address: string): string | null {
  try {
    return installed.country(address);
  } catch {
    return null;
  }
}

/** The new data's answer; a record it cannot read (a pointer loop, a pointer out of the file) refuses the file. */
function candidateCountry(candidate: Mmdb, address: string): string | null {
  try {
    return candidate.country(address);
  } catch (error) {
    const why = error instanceof MmdbCorruptError ? error.why : (error as Error).message;
    throw new IpMatchDataError(
      'invalid_database',
      `the new data is corrupt: its record for ${address} cannot be read (${why}), so it was not installed`,
      { cause: error },
    );
  }
}

/**
 * What the coverage and build-date checks need of the installed data, taken from it once: the updater reads
 * the installed file and the new one through one buffer, so the installed reader is gone by the time the new
 * file is checked.
 */
export interface InstalledBaseline {
  /** The installed data's build date (ISO 8601). */
  buildDate: string;
  /** The sampled addresses the installed data places in a country. */
  answered: string[];
}

/** The installed data's build date and the sampled addresses it answers (a corrupt record answers none). */
export function installedBaseline(installed: Mmdb): InstalledBaseline {
  const sample = [...sampleNetworks(installed.bytes, installed.metadata, TREE_SAMPLE), ...spread()];
  return {
    buildDate: installed.facts.buildDate,
    answered: sample.filter((address) => readable(installed, address) !== null),
  };
}

export interface CandidateCheck {
  /** The data readers use now (the data dir's current file, else the bundled one), or its baseline, if any. */
  installed?: Mmdb | InstalledBaseline | undefined;
  /** Accept a build older than the installed one: `--force`, a rollback, or a reload (which follows the file). */
  allowOlder: boolean;
  now?: number;
}

/**
 * What the updater and a reloading provider require of new data before anyone reads it, beyond being
 * an MMDB with countries (`openMmdb` checks that): a believable build date, sampled records that read (no
 * pointer loop, no pointer out of the file), and no lost coverage.
 * Throws IpMatchDataError naming the problem.
 */
export function checkCandidate(candidate: Mmdb, check: CandidateCheck): void {
  const now = check.now ?? Date.now();
  const built = Date.parse(candidate.facts.buildDate);
  if (built > now + FUTURE_SLACK_MS) {
    throw new IpMatchDataError(
      'future_build',
      `the new data says it was built on ${candidate.facts.buildDate}, in the future: refusing a file with a wrong build_epoch`,
    );
  }
  // Read on its own first, so that a corrupt file is refused even with no installed data to compare with.
  for (const address of [...sampleNetworks(candidate.bytes, candidate.metadata, TREE_SAMPLE), ...spread()]) {
    candidateCountry(candidate, address);
  }
  if (check.installed === undefined) return;
  const installed = 'answered' in check.installed ? check.installed : installedBaseline(check.installed);
  if (!check.allowOlder && built < Date.parse(installed.buildDate)) {
    throw new IpMatchDataError(
      'older_build',
      `the new data (built ${candidate.facts.buildDate.slice(0, 10)}) is older than the installed data ` +
        `(built ${installed.buildDate.slice(0, 10)}); pass --force (force: true) to install it anyway`,
    );
  }
  const sample = installed.answered;
  if (sample.length === 0) return;
  const answered = sample.filter((address) => candidateCountry(candidate, address) !== null).length;
  if (answered < MIN_COVERAGE * sample.length) {
    throw new IpMatchDataError(
      'sanity_failed',
      `the new data answers ${answered} of ${sample.length} sampled addresses that the installed data places ` +
        `in a country (at least ${Math.round(MIN_COVERAGE * 100)}% expected): it looks broken, so it was not installed`,
    );
  }
}
