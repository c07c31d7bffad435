import { IpMatchConfigError } from '../core/errors.js';
import { parseCli, UsageError } from './args.js';
import { USAGE } from './usage.js';

/** Where the CLI writes and what it reads: the process's streams and environment, or a test's. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  /** What `ipmatch report -` reads. */
  stdin?: NodeJS.ReadableStream;
}

/** Runs one command line and resolves to the exit status: 0 for a decision or info, 1 for a mistake. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.length === 0) {
    io.stderr(`ipmatch: no command given\n\n${USAGE}`);
    return 1;
  }
  try {
    if (argv[0] === 'db' && (argv[1] === 'update' || argv[1] === 'rollback')) {
      const { runDbData } = await import('./db-update.js');
      return await runDbData(argv[1], argv.slice(2), io);
    }
    const command = parseCli(argv);
    if (command.kind === 'help') {
      io.stdout(USAGE);
      return 0;
    }
    if (command.kind === 'report') {
      const { runReport } = await import('./report.js');
      return await runReport(command, io);
    }
    // Loaded only for a real command: --help and typos answer without loading the phone metadata.
    if (command.kind === 'db') return await (await import('./db-info.js')).runDb(command, io);
    const { runCheck } = await import('./commands.js');
    return await runCheck(command, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`ipmatch: ${error.message}\nRun "ipmatch --help" for usage.\n`);
      return 1;
    }
    // A bad --database or VONAGE_BASE_URL: the message already says what to pass instead.
    if (error instanceof IpMatchConfigError) {
      io.stderr(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
