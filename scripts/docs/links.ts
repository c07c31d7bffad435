/**
 * Finds the relative links of a page that lead nowhere: a file or folder that does not exist, or an anchor that
 * no heading of the target page produces. Links to other sites are not followed (no network in tests).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { headingAnchors, links } from './markdown.js';
import type { Page } from './pages.js';

const EXTERNAL = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;

export function brokenLinks(root: string, page: Page): string[] {
  const broken: string[] = [];
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (path: string, text?: string) => {
    let found = anchorsOf.get(path);
    if (!found) {
      found = headingAnchors(text ?? readFileSync(path, 'utf8'));
      anchorsOf.set(path, found);
    }
    return found;
  };
  for (const { target, line } of links(page.text)) {
    if (EXTERNAL.test(target)) continue;
    const where = `${page.file}:${line} (${target})`;
    const hash = target.indexOf('#');
    const pathPart = decodeURI(hash === -1 ? target : target.slice(0, hash));
    const anchor = hash === -1 ? null : decodeURIComponent(target.slice(hash + 1));
    const self = join(root, page.file);
    // GitHub resolves `/x` from the repository root, anything else from the page's folder.
    const path =
      pathPart === '' ? self : join(pathPart.startsWith('/') ? root : dirname(self), pathPart.split('?')[0]!);
    if (!existsSync(path)) {
      broken.push(`${where}: no such file or folder ${relativeTo(root, path)}`);
      continue;
    }
    if (anchor === null || !path.endsWith('.md') || statSync(path).isDirectory()) continue;
    if (!anchors(path, path === self ? page.text : undefined).has(anchor)) {
      broken.push(`${where}: no heading in ${relativeTo(root, path)} has the anchor #${anchor}`);
    }
  }
  return broken;
}

function relativeTo(root: string, path: string): string {
  return path.startsWith(root) ? path.slice(root.length).replace(/^[\\/]/, '') : path;
}
