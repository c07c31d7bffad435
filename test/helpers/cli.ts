/** `ipmatch …args` run from the sources, as a user runs the CLI: stdout and the exit code, killed after 60 s. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** The environment without VONAGE_* variables, so that a developer's own credentials never reach a test. */
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VONAGE_')));

export function ipmatch(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: root,
      env,
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}
