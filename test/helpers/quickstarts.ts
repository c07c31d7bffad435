/** The README's quick starts as a newcomer reads them: the setup line, and each section's install line and file. */
import { fencedBlocks } from '../../scripts/docs/markdown.js';

export interface QuickStart {
  /** The `###` heading. */
  name: string;
  /** The section's `npm install …` line, from a ```sh block or inline code in its prose. */
  install: string;
  /** The section's first ```ts block: the whole file to save and run. */
  code: string;
}

/** One shell line split into its `&&`-joined commands, its comment dropped. */
export function commands(line: string): string[][] {
  return line
    .replace(/\s+#.*$/, '')
    .split('&&')
    .map((command) => command.trim().split(/\s+/))
    .filter((words) => words.length > 0 && words[0] !== '');
}

/** The README's `## Quick start` section: the setup commands run once, and the sections below them. */
export function quickStarts(readme: string): { setup: string; run: string; sections: QuickStart[] } {
  const start = readme.indexOf('\n## Quick start\n');
  if (start < 0) throw new Error('README.md has no "## Quick start" section');
  const end = readme.indexOf('\n## ', start + 1);
  const [intro, ...parts] = readme.slice(start, end < 0 ? undefined : end).split('\n### ');
  const setup = fencedBlocks(intro!).find((b) => b.lang === 'sh' && b.code.includes('npm init'));
  const run = /`(npx tsx [^`]+)`/.exec(intro!)?.[1];
  if (!setup || !run)
    throw new Error('the Quick start intro names no `npm init` line or no `npx tsx …` command');
  const sections = parts.map((part): QuickStart => {
    const name = part.slice(0, part.indexOf('\n'));
    const blocks = fencedBlocks(part);
    const shell = blocks.find((b) => b.lang === 'sh' && b.code.includes('npm install'))?.code;
    const install = shell ?? /`(npm install [^`]+)`/.exec(part)?.[1];
    const code = blocks.find((b) => b.lang === 'ts')?.code;
    if (!install || !code)
      throw new Error(`README quick start "${name}" has no install line or no ts sample`);
    return { name, install: install.trim(), code };
  });
  return { setup: setup.code.trim(), run, sections };
}
