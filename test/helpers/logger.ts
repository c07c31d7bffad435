import type { Logger } from 'ipmatch';

/** A logger that keeps every line, so tests can assert what a user's logs would show. */
export function memoryLogger(): Logger & {
  lines: { level: 'warn' | 'error'; msg: string; meta?: object }[];
  text(): string;
} {
  const lines: { level: 'warn' | 'error'; msg: string; meta?: object }[] = [];
  return {
    lines,
    warn: (msg, meta) => lines.push({ level: 'warn', msg, meta }),
    error: (msg, meta) => lines.push({ level: 'error', msg, meta }),
    text: () => lines.map((l) => `${l.level} ${l.msg} ${JSON.stringify(l.meta ?? {})}`).join('\n'),
  };
}
