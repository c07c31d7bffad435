/** The report page's charts as inline SVG. */
import type { ActionCounts, PairFigure } from './figures.js';
import { count } from './format.js';
import { printable } from './inert.js';
import { bucketLabel, type TimelineUnit } from './timeline.js';

/**
 * Everything put into the page passes through here: route names and countries come from a file. Markup is
 * escaped, and control characters and bidi overrides become U+FFFD, so a name cannot reorder what the page shows.
 */
export const esc = (s: string) => printable(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const COLORS = { allow: '#3b8b5a', flag: '#e0a030', block: '#c8423b' } as const;
const ACTIONS = ['allow', 'flag', 'block'] as const;

/**
 * Decisions per bucket, stacked by policyAction, with a few date ticks and a <title> per bar for exact counts.
 * Drawn by hand: three charts need no library, and the page stays small and self-contained.
 */
export function stackedBars(buckets: (ActionCounts & { start: string })[], unit: TimelineUnit): string {
  const w = 880;
  const h = 220;
  const left = 56;
  const bottom = 28;
  const plotW = w - left - 8;
  const plotH = h - bottom - 10;
  const max = buckets.reduce((m, b) => Math.max(m, b.allow + b.flag + b.block), 1);
  // Each bucket has a slot across the width; a short span's few bars stay bar-shaped inside theirs.
  const slot = plotW / Math.max(1, buckets.length);
  const bw = Math.min(48, slot);
  const label = (iso: string) => bucketLabel(unit, iso);
  const parts: string[] = [];
  for (const frac of [0, 0.5, 1]) {
    const y = 10 + plotH - plotH * frac;
    parts.push(
      `<line x1="${left}" x2="${w - 8}" y1="${y}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y + 4}" text-anchor="end" class="tick">${count(Math.round(max * frac))}</text>`,
    );
  }
  const every = Math.max(1, Math.ceil(buckets.length / (unit === 'hour' ? 8 : 12)));
  buckets.forEach((b, i) => {
    let y = 10 + plotH;
    const x = left + i * slot + (slot - bw) / 2;
    const total = b.allow + b.flag + b.block;
    const title = `${unit === 'week' ? 'week of ' : ''}${label(b.start)}: ${count(total)} (allow ${count(b.allow)}, flag ${count(b.flag)}, block ${count(b.block)})`;
    parts.push(`<g><title>${esc(title)}</title>`);
    for (const a of ACTIONS) {
      const bh = (b[a] / max) * plotH;
      if (bh <= 0) continue;
      y -= bh;
      parts.push(
        `<rect x="${(x + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="${COLORS[a]}"/>`,
      );
    }
    parts.push('</g>');
    if (i % every === 0) {
      parts.push(
        `<text x="${(x + bw / 2).toFixed(1)}" y="${h - 8}" text-anchor="middle" class="tick">${esc(label(b.start))}</text>`,
      );
    }
  });
  return `<svg viewBox="0 0 ${w} ${h}" role="img" aria-label="Decisions per ${unit}, by policy action">${parts.join('')}</svg>`;
}

/** Horizontal bars with their counts: reasons. */
export function barList(entries: [string, number][], total: number): string {
  const rowH = 24;
  const w = 880;
  const labelW = 190;
  const max = entries.reduce((m, [, n]) => Math.max(m, n), 1);
  const rows = entries.map(([name, n], i) => {
    const y = i * rowH;
    const bw = ((w - labelW - 150) * n) / max;
    return (
      `<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${esc(name)}</text>` +
      `<rect x="${labelW}" y="${y + 4}" width="${bw.toFixed(1)}" height="${rowH - 8}" fill="#5477a8"/>` +
      `<text x="${(labelW + bw + 6).toFixed(1)}" y="${y + 16}" class="num">${count(n)} · ${((n / Math.max(1, total)) * 100).toFixed(1)}%</text>`
    );
  });
  return `<svg viewBox="0 0 ${w} ${Math.max(rowH, entries.length * rowH)}" role="img" aria-label="Decisions by reason">${rows.join('')}</svg>`;
}

/** Phone country (rows) × IP country (columns), each cell one of the top mismatch pairs, darker for more. */
export function heatmap(pairs: PairFigure[]): string {
  if (pairs.length === 0) return '<p class="none">No mismatches.</p>';
  const rows = [...new Set(pairs.map((p) => p.phoneCountry))];
  const cols = [...new Set(pairs.map((p) => p.ipCountry))];
  const cell = 44;
  const left = 70;
  const top = 46;
  const max = Math.max(...pairs.map((p) => p.count));
  const parts: string[] = [
    `<text x="${left}" y="14" class="axis">IP country →</text>`,
    `<text x="4" y="${top - 8}" class="axis">Phone ↓</text>`,
  ];
  cols.forEach((c, j) => {
    parts.push(
      `<text x="${left + j * cell + cell / 2}" y="${top - 8}" text-anchor="middle">${esc(c)}</text>`,
    );
  });
  rows.forEach((r, i) => {
    parts.push(
      `<text x="${left - 8}" y="${top + i * cell + cell / 2 + 5}" text-anchor="end">${esc(r)}</text>`,
    );
    cols.forEach((c, j) => {
      const p = pairs.find((x) => x.phoneCountry === r && x.ipCountry === c);
      const x = left + j * cell;
      const y = top + i * cell;
      if (!p) {
        parts.push(`<rect x="${x}" y="${y}" width="${cell - 2}" height="${cell - 2}" fill="#f4f4f4"/>`);
        return;
      }
      const t = 0.15 + 0.85 * (p.count / max);
      const text = t > 0.55 ? '#fff' : '#222';
      parts.push(
        `<g data-pair="${esc(`${r}>${c}`)}"><title>${esc(`${r} → ${c}: ${count(p.count)} mismatches (${(p.share * 100).toFixed(1)}%)`)}</title>` +
          `<rect x="${x}" y="${y}" width="${cell - 2}" height="${cell - 2}" fill="rgba(200,66,59,${t.toFixed(2)})"/>` +
          `<text x="${x + cell / 2 - 1}" y="${y + cell / 2 + 4}" text-anchor="middle" fill="${text}" class="num">${count(p.count)}</text></g>`,
      );
    });
  });
  const w = left + cols.length * cell + 4;
  const h = top + rows.length * cell + 4;
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="Mismatches by phone country and IP country">${parts.join('')}</svg>`;
}
