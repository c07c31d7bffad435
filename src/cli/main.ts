/** The CLI's dispatcher: one command line to the command that runs it, and its mistakes to exit 1. */
import { IpMatchConfigError } from '../core/errors.js';
import { parseCli } from './args.js';
import type { CliIo } from './io.js';
import { USAGE } from './usage.js';
import { UsageError } from './usage-error.js';

/** Runs one command line and resolves to the exit status: 0 for a decision or info, 1 for a mistake. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.length === 0) {
    io.stderr(`ipmatch: no command given\n\n${USAGE}`);
    return 1;
  }
  try {
    // Each command is loaded only when run: --help and typos answer without loading the phone metadata.
    if (argv[0] === 'db' && (argv[1] === 'update' || argv[1] === 'rollback')) {
      const { runDbUpdateOrRollback } = await import('./db-update.js');
      return await runDbUpdateOrRollback(argv[1], argv.slice(2), io);
    }
    const command = parseCli(argv);
    switch (command.kind) {
      case 'help':
        io.stdout(USAGE);
        return 0;
      case 'report':
        return await (await import('./report.js')).runReport(command, io);
      case 'db':
        return await (await import('./db-info.js')).runDbInfo(command, io);
      case 'check':
        return await (await import('./check.js')).runCheck(command, io);
    }
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
