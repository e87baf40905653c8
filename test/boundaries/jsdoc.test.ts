import { dirname, join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, test } from "vitest";
import { REPO } from "../helpers/cli.ts";

/**
 * The public API of the packages users write image modules with carries JSDoc on every member:
 * what an editor shows on hover. Walks what each index exports (functions and each overload,
 * constants, interfaces, type aliases, classes) and their members (methods and each overload,
 * properties, option fields, the object types of a union), as the type checker sees them, and
 * lists every one whose documentation comment is empty. Declarations of other packages
 * re-exported as they are (`LayerGraph` from @strata/graph) are that package's to document.
 */
const ENTRIES = { "@strata/core": "packages/core/src/index.ts", "@strata/images": "images/src/index.ts" };

function undocumented(entry: string): string[] {
  const file = join(REPO, entry);
  const own = dirname(file);
  const config = ts.parseJsonConfigFileContent(ts.readConfigFile(join(REPO, "tsconfig.base.json"), ts.sys.readFile).config, ts.sys, REPO);
  const program = ts.createProgram([file], { ...config.options, noEmit: true });
  const checker = program.getTypeChecker();
  const isOwn = (d: ts.Declaration) => !relative(own, d.getSourceFile().fileName).startsWith("..");
  const missing: string[] = [];
  const seen = new Set<ts.Declaration>();
  /** The interface, class or type alias a member is written in (what the list names it by). */
  const container = (d: ts.Node): string | undefined => {
    for (let n: ts.Node | undefined = d.parent; n; n = n.parent) {
      if ((ts.isInterfaceDeclaration(n) || ts.isClassDeclaration(n) || ts.isTypeAliasDeclaration(n)) && n.name) return n.name.text;
      if (ts.isTypeLiteralNode(n) && ts.isParameter(n.parent)) return undefined;
    }
    return undefined;
  };
  const hasDoc = (s: ts.Symbol | ts.Signature) => ts.displayPartsToString(s.getDocumentationComment(checker)).trim() !== "";

  const checkSignatures = (name: string, decls: readonly ts.Declaration[]) => {
    const fns = decls.filter((d): d is ts.SignatureDeclaration => ts.isFunctionLike(d) && isOwn(d));
    // The implementation of an overloaded function is not what callers see.
    const visible = fns.length > 1 ? fns.filter((d) => !(d as ts.FunctionLikeDeclaration).body) : fns;
    const sigs = visible.map((d) => checker.getSignatureFromDeclaration(d));
    // One doc for all overloads is fine when there is one; each overload of several needs its own.
    if (sigs.length > 1) {
      for (const [i, s] of sigs.entries()) if (s && !hasDoc(s)) missing.push(`${name} (overload ${i + 1})`);
    }
  };

  const checkMembers = (owner: string, type: ts.Type) => {
    const types = type.isUnion() || type.isIntersection() ? type.types : [type];
    for (const t of types) {
      for (const p of checker.getPropertiesOfType(t)) {
        const decls = (p.declarations ?? []).filter(isOwn);
        // Brands keyed by a unique symbol (`[IMAGE_BRAND]`) are no API; a member reached twice
        // (an interface in several unions, a generic's instantiations) is listed once.
        if (!decls.length || p.name.startsWith("__@") || seen.has(decls[0]!)) continue;
        seen.add(decls[0]!);
        const name = `${container(decls[0]!) ?? owner}.${p.name}`;
        if (!hasDoc(p)) missing.push(name);
        checkSignatures(name, decls);
        // An option field whose type is an anonymous object literal written here: its fields too.
        for (const d of decls) {
          const typeNode = (d as ts.PropertySignature).type;
          if (typeNode && ts.isTypeLiteralNode(typeNode)) checkMembers(name, checker.getTypeFromTypeNode(typeNode));
        }
      }
    }
  };

  const checkParameters = (name: string, decls: readonly ts.Declaration[]) => {
    for (const d of decls) {
      if (!ts.isFunctionLike(d) || !isOwn(d)) continue;
      for (const p of d.parameters) if (p.type && ts.isTypeLiteralNode(p.type)) checkMembers(`${name}(${p.name.getText()})`, checker.getTypeFromTypeNode(p.type));
    }
  };

  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const s = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const decls = (s.declarations ?? []).filter(isOwn);
    if (!decls.length) continue;
    const name = exported.name;
    if (!hasDoc(s)) missing.push(name);
    checkSignatures(name, decls);
    checkParameters(name, decls);
    if (s.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Class)) {
      checkMembers(name, checker.getDeclaredTypeOfSymbol(s));
      for (const d of decls) if (ts.isTypeAliasDeclaration(d)) checkMembers(name, checker.getTypeFromTypeNode(d.type));
    }
    // Methods' option parameters (`run(cmd, opts: { … })`) written inline.
    for (const d of decls) {
      if (!ts.isInterfaceDeclaration(d) && !ts.isClassDeclaration(d)) continue;
      for (const m of d.members) if (ts.isMethodSignature(m) || ts.isMethodDeclaration(m)) checkParameters(`${name}.${m.name.getText()}`, [m]);
    }
  }
  return missing.sort();
}

describe("JSDoc on every public member (what editors show on hover)", () => {
  for (const [pkg, entry] of Object.entries(ENTRIES)) {
    test(pkg, () => {
      expect(undocumented(entry)).toEqual([]);
    }, 120_000);
  }
});
