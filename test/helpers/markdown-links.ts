/** The relative links of a Markdown file, and the anchors GitHub gives its headings, for dead-link checks. */

/** Relative link targets (`docs/x.md#part`, `./NOTICE`) in `[text](target)`, `![alt](target)` and `href`/`src`. */
export function relativeLinks(markdown: string): string[] {
  // Code is not linked: fenced blocks and inline code may hold text that looks like a link.
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  const targets = [
    ...[...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!),
    ...[...prose.matchAll(/\b(?:href|src)="([^"]+)"/g)].map((m) => m[1]!),
    ...[...prose.matchAll(/^\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1]!),
  ];
  // Absolute URLs (https:, mailto:), protocol-relative ones and in-page anchors are not files of the package.
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith('//') && !t.startsWith('#'));
}

/** The anchors GitHub (and npm's package page) gives a Markdown file's headings: `## When it is down` → `when-it-is-down`. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '');
  for (const [, heading] of prose.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = heading!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}
