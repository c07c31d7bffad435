import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VONAGE_')));

/** `ipmatch …args` from the sources, as a user runs it, killed after 60 s. */
function ipmatch(args: string[]): Promise<{ code: number | null; stdout: string }> {
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

describe('ipmatch check: the velocity counts', { timeout: 120_000 }, () => {
  it('prints the four counts, says they are this check alone, and --json carries them as counted', async () => {
    const [plain, json, private_] = await Promise.all([
      ipmatch(['check', '+447400123456', '81.2.69.160']),
      ipmatch(['check', '+447400123456', '81.2.69.160', '--json']),
      ipmatch(['check', '+447400123456', '10.0.0.7', '--json']),
    ]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(
      /^velocity {2}ip 1, subnet 1, phoneCountries 1, prefix 1 \(counted in this run alone\)$/m,
    );
    // The lines above it are unchanged: match, action, ip, phone.
    expect(plain.stdout).toMatch(/^phone {5}\+447400123456 {2}GB {2}mobile {2}valid$/m);
    expect(JSON.parse(json.stdout).velocity).toEqual({ ip: 1, subnet: 1, phoneCountries: 1, prefix: 1 });
    // A private IP is not counted (nor its subnet), and has no country; the number's block still is.
    expect(JSON.parse(private_.stdout).velocity).toEqual({ ip: 0, subnet: 0, phoneCountries: 0, prefix: 1 });
  });
});
