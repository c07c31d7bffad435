import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** A page's text, and its path relative to the repository root with `/` separators. */
export interface Page {
  file: string;
  text: string;
}

/** The pages the doc checks cover: the front door, the security policy, the bench notes, and all of docs/. */
export function docPages(root: string): string[] {
  const pages = ['README.md', 'SECURITY.md', 'bench/README.md'].map((p) => join(root, p)).filter(existsSync);
  const docs = join(root, 'docs');
  if (existsSync(docs)) {
    const nested = readdirSync(docs, { recursive: true, encoding: 'utf8' });
    pages.push(
      ...nested
        .filter((p) => p.endsWith('.md'))
        .map((p) => join(docs, p))
        .sort(),
    );
  }
  return pages;
}

/** The pages with their text, named relative to the root with `/` separators, as the checks report them. */
export function readPages(root: string): Page[] {
  return docPages(root).map((path) => ({
    file: relative(root, path).split('\\').join('/'),
    text: readFileSync(path, 'utf8'),
  }));
}
