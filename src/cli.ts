#!/usr/bin/env node
// `ipmatch check <phone> <ip>`, `ipmatch db` and `ipmatch report`: see src/cli/usage.ts. The logic lives in src/cli/.
import { main } from './cli/main.js';

main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  stdin: process.stdin,
}).then(
  // exitCode rather than exit(): a piped stdout is flushed before the process ends by itself.
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `ipmatch: unexpected error: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
