/** Reads decision logs (files, gzip, stdin) line by line into the report builder. */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { ReportBuilder } from './aggregate.js';
import { MAX_LINE } from './limits.js';
import { parseLine } from './parse-line.js';

const TOO_LONG = `longer than ${MAX_LINE} characters`;

/** The bytes of `stream`, gunzipped when they start with gzip's magic number, whatever the file is called. */
async function* decompressed(stream: Readable): AsyncGenerator<Buffer> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  if (first.done) return;
  const head = first.value;
  async function* all() {
    yield head;
    for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
  }
  if (head[0] === 0x1f && head[1] === 0x8b) yield* Readable.from(all()).pipe(createGunzip());
  else yield* all();
}

/**
 * Streams one source into the builder, line by line: the file is never held whole, and a line longer than
 * MAX_LINE is neither held nor parsed (a binary file must not fill memory). Empty lines are skipped; a line that
 * is not a decision is counted as bad with its number.
 */
export async function readSource(name: string, stream: Readable, builder: ReportBuilder): Promise<void> {
  builder.source(name);
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let lineNo = 0;
  let skipping = false;
  const take = (text: string) => {
    lineNo++;
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (line.length > MAX_LINE) return builder.bad(name, lineNo, TOO_LONG);
    if (line.trim() === '') return;
    const parsed = parseLine(line);
    if (typeof parsed === 'string') builder.bad(name, lineNo, parsed);
    else builder.add(parsed);
  };
  for await (const chunk of decompressed(stream)) {
    const text = rest + decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      if (skipping) {
        skipping = false;
        lineNo++;
      } else {
        take(text.slice(start, nl));
      }
      start = nl + 1;
    }
    rest = text.slice(start);
    if (rest.length > MAX_LINE) {
      if (!skipping) builder.bad(name, lineNo + 1, TOO_LONG);
      skipping = true;
      rest = '';
    }
  }
  rest += decoder.end();
  if (skipping) return;
  if (rest !== '') take(rest);
}

/** A file to read, or `-` for standard input. */
export function openSource(name: string, stdin: Readable): Readable {
  return name === '-' ? stdin : createReadStream(name, { highWaterMark: 1 << 20 });
}
