import {
  IndentationText,
  NewLineKind,
  Project,
  QuoteKind,
  VariableDeclarationKind,
  type CodeBlockWriter,
  type StatementStructures,
  type WriterFunction,
  StructureKind,
  ts,
} from "ts-morph";
import type { CommentLine } from "./comments.ts";
import type { ChainCall } from "./instructions.ts";
import { print } from "./literals.ts";
import type { CoreName } from "./names.ts";

/** A top-level const of the module. */
interface ConstDecl {
  readonly kind: "const";
  readonly name: string;
  readonly exported: boolean;
  readonly comments: readonly CommentLine[];
  /** A chain (stage) or a plain expression (arg, context, list). */
  readonly head: ts.Expression;
  readonly calls?: readonly ChainCall[];
  readonly trailing?: readonly string[];
  /** Separate from the statement before by a blank line. */
  readonly blankBefore: boolean;
}

/** `export default <chain or name>`. */
interface DefaultExport {
  readonly kind: "default";
  readonly comments: readonly CommentLine[];
  readonly head: ts.Expression;
  readonly calls?: readonly ChainCall[];
  readonly trailing?: readonly string[];
}

export type ModuleItem = ConstDecl | DefaultExport;

export interface ModulePlan {
  readonly imports: ReadonlySet<CoreName>;
  readonly items: readonly ModuleItem[];
  /** `export { buildEnv as "build-env" }`: stage names that are not identifiers. */
  readonly aliases: ReadonlyArray<{ readonly name: string; readonly alias: string }>;
  readonly trailingComments: readonly CommentLine[];
}

const TYPE_NAMES: ReadonlySet<CoreName> = new Set(["Port", "Signal", "Duration", "PlatformString"]);

let project: Project | undefined;
let serial = 0;

/** One in-memory project for every conversion: creating the compiler host is the costly part. */
function sharedProject(): Project {
  project ??= new Project({
    useInMemoryFileSystem: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    manipulationSettings: { indentationText: IndentationText.TwoSpaces, quoteKind: QuoteKind.Double, newLineKind: NewLineKind.LineFeed, useTrailingCommas: false },
  });
  return project;
}

/**
 * Builds the module with ts-morph structures (statements, import, exports), writes each chain
 * with the structure writer (one call per line), then lets the TypeScript formatter indent it.
 * Expressions are compiler nodes printed by the compiler, so every literal is escaped by it.
 */
export function printModule(plan: ModulePlan, fileName = "app.image.ts"): string {
  const p = sharedProject();
  // A fresh path each time: the language service caches per path, and reusing one with new text corrupts edits.
  const sf = p.createSourceFile(`/${++serial}/${fileName}`, { statements: statements(plan) });
  try {
    sf.formatText({ indentSize: 2, tabSize: 2, convertTabsToSpaces: true, ensureNewLineAtEndOfFile: true });
    return withFinalNewline(sf.getFullText());
  } finally {
    p.removeSourceFile(sf);
  }
}

function statements(plan: ModulePlan): Array<StatementStructures | WriterFunction> {
  const out: Array<StatementStructures | WriterFunction> = [];
  // Alphabetical regardless of case (as editors' "organize imports" sorts them).
  const sorted = [...plan.imports].sort((a, b) => a.localeCompare(b, "en", { sensitivity: "base" }) || a.localeCompare(b));
  out.push({
    kind: StructureKind.ImportDeclaration,
    moduleSpecifier: "@strata/core",
    namedImports: sorted.map((name) => ({ name, isTypeOnly: TYPE_NAMES.has(name) })),
  });
  for (const item of plan.items) {
    const trivia = leading(item.comments, item.kind === "default" || item.blankBefore);
    if (item.kind === "const") {
      out.push({
        kind: StructureKind.VariableStatement,
        isExported: item.exported,
        declarationKind: VariableDeclarationKind.Const,
        leadingTrivia: trivia,
        ...trailingComments(item.trailing),
        declarations: [{ name: item.name, initializer: chainWriter(item.head, item.calls ?? []) }],
      });
    } else {
      out.push({ kind: StructureKind.ExportAssignment, isExportEquals: false, leadingTrivia: trivia, ...trailingComments(item.trailing), expression: chainWriter(item.head, item.calls ?? []) });
    }
  }
  if (plan.aliases.length) {
    const names = plan.aliases.map((a) => `${a.name} as ${print(ts.factory.createStringLiteral(a.alias))}`);
    const one = `export { ${names.join(", ")} };`;
    // Many stage names would make one very long line: one per line from then on.
    out.push((w) => {
      w.blankLineIfLastNot();
      w.write(one.length <= 100 ? one : `export {\n${names.map((n) => `  ${n},`).join("\n")}\n};`);
      w.newLine();
    });
  }
  if (plan.trailingComments.length) {
    const trailing = plan.trailingComments;
    out.push((w) => {
      w.blankLineIfLastNot();
      writeComments(w, trailing, true);
      w.newLineIfLastNot();
    });
  }
  return out;
}

function leading(comments: readonly CommentLine[], blank: boolean): WriterFunction {
  return (w) => {
    if (blank) w.blankLineIfLastNot();
    writeComments(w, comments, true);
  };
}

function writeComments(w: CodeBlockWriter, comments: readonly CommentLine[], keepBlank: boolean): void {
  for (const c of comments) {
    if (c === null) {
      if (keepBlank) w.blankLineIfLastNot();
      continue;
    }
    w.write(`//${c}`).newLine();
  }
}

/**
 * `head` then one `.call(args)` per line. Nothing is indented here: the writer's indentation
 * would have to guess where template literals start and end, and inside one a space changes
 * the value. The TypeScript formatter indents afterwards, knowing the syntax.
 */
function chainWriter(head: ts.Expression, calls: readonly ChainCall[]): WriterFunction {
  return (w) => {
    w.write(print(head));
    for (const c of calls) {
      w.newLine();
      writeComments(w, c.comments, false);
      w.write(".").write(c.method).write("(");
      c.args.forEach((a, i) => {
        if (i) w.write(", ");
        w.write(print(a));
      });
      w.write(")");
    }
  };
}

/** Comments of the stage's last instructions that made no call (an EXPOSE of nothing), after the statement. */
function trailingComments(trailing: readonly string[] | undefined): { trailingTrivia?: WriterFunction } {
  if (!trailing?.length) return {};
  return {
    trailingTrivia: (w) => {
      w.newLine();
      writeComments(w, trailing, false);
    },
  };
}

function withFinalNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
