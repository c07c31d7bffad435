import type { Logger } from 'ipmatch';

/**
 * A logger that keeps every line, so tests can assert what a user's logs would show. The bundled GeoIP data
 * is older than `maxAgeDays` (45), so every provider reading it warns once (IPMATCH_DATA_STALE); that line is
 * left out unless `stale: true`, so that tests about other warnings count only theirs.
 */
export function memoryLogger(options: { stale?: boolean } = {}): Logger & {
  lines: { level: 'warn' | 'error'; msg: string; meta?: object }[];
  text(): string;
} {
  const lines: { level: 'warn' | 'error'; msg: string; meta?: object }[] = [];
  const keep = (meta?: object) => options.stale || (meta as { code?: string })?.code !== 'IPMATCH_DATA_STALE';
  return {
    lines,
    warn: (msg, meta) => void (keep(meta) && lines.push({ level: 'warn', msg, meta })),
    error: (msg, meta) => void (keep(meta) && lines.push({ level: 'error', msg, meta })),
    text: () => lines.map((l) => `${l.level} ${l.msg} ${JSON.stringify(l.meta ?? {})}`).join('\n'),
  };
}
