/** CliIo: where the CLI writes and what it reads, so that commands run the same under a test as in a shell. */

/** Where the CLI writes and what it reads: the process's streams and environment, or a test's. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  /** What `ipmatch report -` reads. */
  stdin?: NodeJS.ReadableStream;
}
