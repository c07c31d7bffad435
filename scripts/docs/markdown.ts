/**
 * The little of Markdown the doc checks need: fenced code blocks, headings as GitHub anchors them, and links.
 * Deliberately line-based (no Markdown library): the pages are ours, and a check that a newcomer can read in
 * one screen is worth more than CommonMark's corner cases.
 */

export interface FencedBlock {
  /** The first word of the info string (`ts` for ```ts), lower-cased; '' when there is none. */
  lang: string;
  /** 1-based line of the block's first code line. */
  line: number;
  /** The code, with the fence's indentation removed (blocks inside list items are indented). */
  code: string;
  /** The `<!-- sample: … -->` directive on the closest non-blank line above the fence, if any. */
  directive: string | null;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^`]*)$/;
const DIRECTIVE = /^\s*<!--\s*sample:\s*(.*?)\s*-->\s*$/;

interface Fence {
  /** 0-based lines of the opening and closing fence (the closing one is past the end when unclosed). */
  open: number;
  close: number;
  indent: string;
  info: string;
}

function fences(lines: string[]): Fence[] {
  const found: Fence[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const [, indent = '', fence = '', info = ''] = open;
    let close = i + 1;
    while (close < lines.length && !closes(lines[close]!, fence)) close++;
    found.push({ open: i, close, indent, info });
    i = close;
  }
  return found;
}

function closes(line: string, fence: string): boolean {
  const trimmed = line.trim();
  return trimmed.startsWith(fence) && trimmed.replaceAll(fence[0]!, '') === '';
}

export function fencedBlocks(markdown: string): FencedBlock[] {
  const lines = markdown.split('\n');
  return fences(lines).map(({ open, close, indent, info }) => {
    const code = lines
      .slice(open + 1, close)
      .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()));
    let above = open - 1;
    while (above >= 0 && lines[above]!.trim() === '') above--;
    return {
      lang: info.trim().split(/\s+/)[0]!.toLowerCase(),
      line: open + 2,
      code: code.join('\n'),
      directive: above >= 0 ? (DIRECTIVE.exec(lines[above]!)?.[1] ?? null) : null,
    };
  });
}

/** The page's lines with fenced code blanked out (kept as empty lines, so line numbers still hold). */
function proseLines(markdown: string): string[] {
  const lines = markdown.split('\n');
  for (const { open, close } of fences(lines)) lines.fill('', open, close + 1);
  return lines;
}

/**
 * GitHub's anchor for a heading (github-slugger): lower-case the rendered text, drop punctuation and symbols
 * except `-` and `_`, and turn each space into `-`. A repeated heading gets `-1`, `-2`… in order.
 */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const explicit = line.matchAll(/<a\s+(?:name|id)="([^"]+)"/g);
    for (const m of explicit) anchors.add(m[1]!);
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(renderedText(heading[1]!));
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The text GitHub renders for inline Markdown: code spans, links and emphasis keep only their words. */
function renderedText(inline: string): string {
  return inline
    .replace(/`([^`]*)`/g, '$1')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/(\*\*|__|\*)(.+?)\1/g, '$2');
}

export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

export interface Link {
  target: string;
  /** 1-based line of the link. */
  line: number;
}

/** Inline links and images, `<a href>`, and reference definitions; code spans and fenced blocks hold none. */
export function links(markdown: string): Link[] {
  const found: Link[] = [];
  proseLines(markdown).forEach((raw, index) => {
    const line = raw.replace(/`[^`]*`/g, '');
    const targets = [
      ...[...line.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!),
      ...[...line.matchAll(/<a\s[^>]*href="([^"]*)"/g)].map((m) => m[1]!),
      ...[...line.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/g)].map((m) => m[1]!),
    ];
    for (const target of targets) found.push({ target, line: index + 1 });
  });
  return found;
}
