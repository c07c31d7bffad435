/**
 * Type-checks the ```ts samples of the docs against the package's public names, so that a renamed option
 * breaks `npm run lint` instead of silently breaking the docs. The conventions are in check-doc-samples.ts.
 */
import { join } from 'node:path';
import ts from 'typescript';
import { compareListing, listingTail } from './listings.js';
import { fencedBlocks } from './markdown.js';
import type { Page } from './pages.js';
import { PRELUDES } from './preludes.js';

interface Segment {
  /** 1-based line in the page of the segment's first code line. */
  line: number;
  code: string;
}

/** One module to type-check: a block, or a block and the ones that continue it. */
export interface Sample {
  /** The page, relative to the repository root, with `/` separators. */
  file: string;
  prelude: string;
  segments: Segment[];
  /** For a listing of types: the module whose exports it must agree with (`ipmatch`, `ipmatch/redis`…). */
  listing?: string;
}

export interface Collected {
  samples: Sample[];
  /** Misuse of the conventions (an unknown directive or prelude, a js block), as `file:line message`. */
  problems: string[];
  ignored: number;
}

const CHECKED = new Set(['ts', 'typescript']);
const UNCHECKED_SCRIPT = new Set(['js', 'javascript', 'mjs', 'cjs', 'tsx', 'jsx']);

export function collectSamples(pages: Page[]): Collected {
  const collected: Collected = { samples: [], problems: [], ignored: 0 };
  for (const { file, text } of pages) {
    let previous: Sample | undefined;
    for (const block of fencedBlocks(text)) {
      const where = `${file}:${block.line - 1}`;
      const directive = parseDirective(block.directive);
      if (directive.kind === 'invalid') {
        collected.problems.push(`${where} ${directive.message}`);
        continue;
      }
      if (directive.kind === 'ignore') {
        collected.ignored++;
        continue;
      }
      if (UNCHECKED_SCRIPT.has(block.lang)) {
        collected.problems.push(
          `${where} a \`\`\`${block.lang} block is not type-checked: write it as \`\`\`ts, or put ` +
            '<!-- sample: ignore: <why> --> above it',
        );
        continue;
      }
      if (!CHECKED.has(block.lang)) continue;
      const segment = { line: block.line, code: block.code };
      if (directive.kind === 'continues') {
        if (previous) previous.segments.push(segment);
        else
          collected.problems.push(`${where} "continues" needs a checked \`\`\`ts block above it on the page`);
        continue;
      }
      const prelude: string[] = [];
      for (const name of directive.preludes) {
        const text = PRELUDES[name];
        if (text === undefined) {
          const known = Object.keys(PRELUDES).join(', ');
          collected.problems.push(
            `${where} unknown prelude "${name}" (known: ${known}; add one in preludes.ts)`,
          );
        } else prelude.push(text);
      }
      previous = { file, prelude: prelude.join('\n'), segments: [segment] };
      if (directive.listing) previous.listing = directive.listing;
      collected.samples.push(previous);
    }
  }
  return collected;
}

type Directive =
  | { kind: 'check'; preludes: string[]; listing?: string }
  | { kind: 'continues' }
  | { kind: 'ignore' }
  | { kind: 'invalid'; message: string };

function parseDirective(text: string | null): Directive {
  if (text === null) return { kind: 'check', preludes: [] };
  const [word = '', ...rest] = text.split(/\s+/);
  if (word === 'continues' && rest.length === 0) return { kind: 'continues' };
  if (word === 'prelude' && rest.length > 0) return { kind: 'check', preludes: rest };
  if (word === 'listing' && rest.length <= 1)
    return { kind: 'check', preludes: [], listing: rest[0] ?? 'ipmatch' };
  if (/^ignore:?$/.test(word)) {
    return rest.length > 0
      ? { kind: 'ignore' }
      : { kind: 'invalid', message: '"sample: ignore" needs a reason: <!-- sample: ignore: <why> -->' };
  }
  return {
    kind: 'invalid',
    message: `unknown directive "sample: ${text}" (known: prelude <name…>, continues, listing [module], ignore: <why>)`,
  };
}

/** Where each sample becomes a module: beside the repository's package.json, so it resolves as users' code. */
function modulePath(root: string, sample: Sample): string {
  return join(root, '.doc-samples', `${sample.file.replaceAll('/', '__')}__L${sample.segments[0]!.line}.ts`);
}

interface Module {
  sample: Sample;
  text: string;
  /** Where each segment starts in the module (0-based line); lines past the last segment are generated. */
  lines: { segment: Segment; start: number }[];
}

function moduleText(sample: Sample): Omit<Module, 'sample'> {
  const lines: { segment: Segment; start: number }[] = [];
  let text = sample.prelude ? `${sample.prelude}\n` : '';
  let start = text.split('\n').length - 1;
  for (const segment of sample.segments) {
    lines.push({ segment, start });
    text += `${segment.code}\n`;
    start += segment.code.split('\n').length;
  }
  if (sample.listing) text += listingTail(text, sample.listing);
  // Every sample is a module of its own, even one without imports: no clashes, and top-level await works.
  return { text: `${text}export {};\n`, lines };
}

/** Type-checks the samples with the repository's tsconfig (its `paths` map `ipmatch/*` to src/). */
export function typeCheckSamples(root: string, samples: Sample[]): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!config) throw new Error(`cannot read ${join(root, 'tsconfig.json')}`);
  const modules = new Map(
    samples.map((sample) => [modulePath(root, sample), { sample, ...moduleText(sample) }]),
  );
  const host = ts.createCompilerHost({ ...config.options, exactOptionalPropertyTypes: true });
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (name) => modules.has(name) || fileExists.call(host, name);
  host.readFile = (name) => modules.get(name)?.text ?? readFile.call(host, name);
  host.getSourceFile = (name, language, ...rest) => {
    const module = modules.get(name);
    return module
      ? ts.createSourceFile(name, module.text, language, true)
      : getSourceFile.call(host, name, language, ...rest);
  };
  // Users' projects may set exactOptionalPropertyTypes, where `keySecret: process.env.X` compiles only if the
  // option says `| undefined`: the samples are checked under it so that every public option says so.
  const options = { ...config.options, exactOptionalPropertyTypes: true };
  const program = ts.createProgram({ rootNames: [...modules.keys()], options, host });
  const messages: string[] = program.getGlobalDiagnostics().map((d) => describe(d));
  for (const [path, module] of modules) {
    const source = program.getSourceFile(path)!;
    const report = (position: number, message: string) =>
      messages.push(locate(module, source, position, message));
    const diagnostics = [
      ...program.getSyntacticDiagnostics(source),
      ...program.getSemanticDiagnostics(source),
    ];
    for (const diagnostic of diagnostics) report(diagnostic.start ?? 0, describe(diagnostic));
    if (module.sample.listing && diagnostics.length === 0) {
      compareListing(program.getTypeChecker(), source, module.sample.listing, report);
    }
  }
  return messages;
}

/** `page:line:column message`, and the sample's line below it, for a position in the generated module. */
function locate(module: Module, source: ts.SourceFile, position: number, message: string): string {
  const { file, segments } = module.sample;
  const { line, character } = source.getLineAndCharacterOfPosition(position);
  const at = [...module.lines].reverse().find((l) => l.start <= line);
  const code = at?.segment.code.split('\n')[line - at.start];
  if (!at) return `${file}:${segments[0]!.line - 1} (in the prelude) ${message}`;
  if (code === undefined) return `${file}:${segments[0]!.line - 1} (the listing) ${message}`;
  return `${file}:${at.segment.line + line - at.start}:${character + 1} ${message}\n    ${code.trim()}`;
}

function describe(diagnostic: ts.Diagnostic): string {
  return `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n    ')}`;
}
