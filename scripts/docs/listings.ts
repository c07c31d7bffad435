/**
 * A listing is a ```ts block that shows a public type for reading (the decision's fields, the Store contract)
 * rather than using it. `<!-- sample: listing [module] -->` holds it to the real export of the same name: every
 * field it shows must exist there with the same type, and every required field there must be shown. So a
 * renamed or added decision field breaks the docs' listing too.
 */
import ts from 'typescript';

const REAL = '__listed';

/** The declarations a listing shows: its top-level interfaces and type aliases. */
function listed(source: ts.SourceFile): (ts.InterfaceDeclaration | ts.TypeAliasDeclaration)[] {
  return source.statements.filter(
    (s): s is ts.InterfaceDeclaration | ts.TypeAliasDeclaration =>
      (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) && !s.name.text.startsWith(REAL),
  );
}

/** Code appended to the listing's module: one alias per listed name to the real export it must agree with. */
export function listingTail(code: string, module: string): string {
  const source = ts.createSourceFile('listing.ts', code, ts.ScriptTarget.ES2022);
  const aliases = listed(source).map(({ name }) => `type ${REAL}_${name.text} = ${REAL}.${name.text};`);
  return [`import type * as ${REAL} from '${module}';`, ...aliases, ''].join('\n');
}

export function compareListing(
  checker: ts.TypeChecker,
  source: ts.SourceFile,
  module: string,
  report: (position: number, message: string) => void,
): void {
  const declared = (name: ts.Identifier) =>
    checker.getDeclaredTypeOfSymbol(checker.getSymbolAtLocation(name)!);
  const same = (a: ts.Type, b: ts.Type) =>
    checker.isTypeAssignableTo(a, b) && checker.isTypeAssignableTo(b, a);
  const aliases = new Map(
    source.statements.filter(ts.isTypeAliasDeclaration).map((alias) => [alias.name.text, alias.name]),
  );
  for (const declaration of listed(source)) {
    const name = declaration.name.text;
    const shown = declared(declaration.name);
    const real = declared(aliases.get(`${REAL}_${name}`)!);
    const fields = checker.getPropertiesOfType(shown);
    if (fields.length === 0) {
      if (!same(shown, real)) {
        report(declaration.name.getStart(), `listing: ${name} is ${describe(checker, real)} in '${module}'`);
      }
      continue;
    }
    for (const field of fields) {
      const at = field.declarations?.[0]?.getStart() ?? declaration.name.getStart();
      const realField = checker.getPropertyOfType(real, field.name);
      if (!realField) {
        report(at, `listing: '${module}' has no ${name}.${field.name} (renamed or removed?)`);
        continue;
      }
      const [a, b] = [checker.getTypeOfSymbol(field), checker.getTypeOfSymbol(realField)];
      if (!same(a, b)) {
        report(
          at,
          `listing: ${name}.${field.name} is ${describe(checker, b)} in '${module}', not ${describe(checker, a)}`,
        );
      }
    }
    for (const realField of checker.getPropertiesOfType(real)) {
      if (realField.flags & ts.SymbolFlags.Optional || shown.getProperty(realField.name)) continue;
      report(
        declaration.name.getStart(),
        `listing: ${name} in '${module}' has ${realField.name}, which is not shown`,
      );
    }
  }
}

function describe(checker: ts.TypeChecker, type: ts.Type): string {
  return checker.typeToString(
    type,
    undefined,
    ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.InTypeAlias,
  );
}
