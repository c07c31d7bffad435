import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

// Every entry point of the package, as tsconfig.json's `paths` maps them to src/.
const ENTRIES = [
  'src/index.ts',
  'src/adapters/express.ts',
  'src/adapters/koa.ts',
  'src/adapters/fastify.ts',
  'src/adapters/fetch.ts',
  'src/adapters/hono.ts',
  'src/stores/redis.ts',
  'src/observe/metrics/index.ts',
  'src/testing/index.ts',
];

/**
 * The optional properties, nested inline object types included, of `type` whose type has no `undefined` when
 * `exactOptionalPropertyTypes` is on: where `keySecret: process.env.X` would not compile in a user's project.
 */
function strictOptionals(checker: ts.TypeChecker, type: ts.Type, path: string, seen: Set<ts.Type>): string[] {
  if (seen.has(type)) return [];
  seen.add(type);
  const found: string[] = [];
  for (const property of checker.getPropertiesOfType(type)) {
    const declaration = property.valueDeclaration ?? property.declarations?.[0];
    if (!declaration || declaration.getSourceFile().fileName.includes('node_modules')) continue;
    const propertyType = checker.getTypeOfSymbol(property);
    const name = `${path}.${property.name}`;
    // With exactOptionalPropertyTypes, `x?: T` reads as `T | missing`, where missing is not the undefined type.
    if (property.flags & ts.SymbolFlags.Optional) {
      const parts = propertyType.isUnion() ? propertyType.types : [propertyType];
      if (!parts.includes(checker.getUndefinedType())) found.push(name);
    }
    // Inline object types of an option (`reload?: boolean | { intervalMs: number }`), not named ones.
    for (const part of propertyType.isUnion() ? propertyType.types : [propertyType]) {
      const symbol = part.getSymbol();
      if (symbol?.flags && symbol.flags & ts.SymbolFlags.TypeLiteral) {
        found.push(...strictOptionals(checker, part, name, seen));
      }
    }
  }
  return found;
}

test('every optional property of a public options type accepts undefined under exactOptionalPropertyTypes', () => {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: () => {},
    },
  )!;
  const options = { ...config.options, exactOptionalPropertyTypes: true };
  const program = ts.createProgram({ rootNames: ENTRIES.map((e) => join(root, e)), options });
  const checker = program.getTypeChecker();
  const names = new Set<string>();
  const strict: string[] = [];
  for (const entry of ENTRIES) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(join(root, entry))!)!;
    for (const exported of checker.getExportsOfModule(module)) {
      if (!/Options$/.test(exported.name) || names.has(exported.name)) continue;
      names.add(exported.name);
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const type = checker.getDeclaredTypeOfSymbol(symbol);
      strict.push(...strictOptionals(checker, type, exported.name, new Set()));
    }
  }
  // The public options types this covers, so that a rename cannot empty the check.
  expect([...names]).toEqual(
    expect.arrayContaining([
      'IpMatchOptions',
      'CacheOptions',
      'LocalProviderOptions',
      'VonageProviderOptions',
      'IdentityInsightsProviderOptions',
      'DecisionLogOptions',
      'UpdateOptions',
      'RedisStoreOptions',
      'RouteOptions',
      'ExpressOptions',
      'FetchOptions',
    ]),
  );
  expect(strict).toEqual([]);
}, 120_000);
