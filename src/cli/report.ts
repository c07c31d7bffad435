/** `ipmatch report`: decision logs into a summary on the terminal, JSON, or a self-contained HTML page. */
import { writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ReportBuilder } from '../observe/report/aggregate.js';
import { reportPage } from '../observe/report/html.js';
import { printable, terminalJson } from '../observe/report/inert.js';
import { openSource, readSource } from '../observe/report/read.js';
import { formatReport } from '../observe/report/terminal.js';
import type { CliIo } from './io.js';
import type { ReportCommand } from './report-args.js';
import { UsageError } from './usage-error.js';

/** The problem with a source in words: a missing file is the user's to fix, so it is a usage error. */
function unreadable(name: string, error: unknown): UsageError {
  const code = (error as { code?: string }).code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EISDIR'
        ? 'it is a directory'
        : error instanceof Error
          ? error.message
          : String(error);
  return new UsageError(
    `cannot read ${name === '-' ? 'standard input' : printable(name)}: ${printable(why)}`,
  );
}

/**
 * `ipmatch report`: streams every source into one report, prints it, and writes the page when asked. Nothing
 * from a log or a file name reaches the terminal as a control character: the summary and messages are made
 * printable, and the JSON escapes what JSON.stringify leaves raw (DEL, C1, bidi).
 */
export async function runReport(command: ReportCommand, io: CliIo): Promise<number> {
  const builder = new ReportBuilder(command);
  for (const name of command.sources) {
    if (name === '-' && !io.stdin)
      throw new UsageError('"-" reads standard input, which this run has not got');
    try {
      await readSource(name, openSource(name, io.stdin as Readable), builder);
    } catch (error) {
      throw unreadable(name, error);
    }
  }
  const report = builder.result();
  io.stdout(command.json ? `${terminalJson(report)}\n` : formatReport(report));
  if (report.input.bad.count > 0 && command.json) {
    io.stderr(
      `ipmatch: ${report.input.bad.count} bad lines skipped (input.bad in the JSON names the first)\n`,
    );
  }
  if (command.html !== undefined) {
    await writeFile(command.html, reportPage(report));
    io.stderr(`ipmatch: wrote ${printable(command.html)}\n`);
  }
  return 0;
}
