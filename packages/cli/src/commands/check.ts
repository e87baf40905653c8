import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Diagnostic, SourceLocation } from "@strata/graph";
import type { CommandSpec, ParsedArgs } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { formatDiagnostic } from "../ui/report-error.ts";

export const spec: CommandSpec = {
  name: "check",
  summary: "Type-check image modules with the TypeScript compiler.",
  usage: "strata check [FILE...]",
  description:
    "Checks each .image.ts module (default: every *.image.ts below the current directory) with the\n" +
    "nearest tsconfig.json (strict defaults when there is none) and prints each problem with its\n" +
    "file:line:col and a code frame. Misuse of an image package (a wrong option type) is caught here,\n" +
    "before anything is built. Exit status 1 when there are errors.",
  positionals: { min: 0, max: Number.POSITIVE_INFINITY },
  options: [],
  examples: ["strata check", "strata check examples/node-service/service.image.ts"],
};

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const files = args.positionals.length ? args.positionals.map((f) => resolve(ctx.cwd, f)) : findImageModules(ctx.cwd);
  if (!files.length) {
    ctx.stderr("strata check: no *.image.ts files found\n");
    return 0;
  }
  const missing = files.find((f) => !existsSync(f));
  if (missing) {
    const { StrataError } = await import("@strata/graph");
    throw new StrataError("STRATA_FILE_NOT_FOUND", `no such file: ${missing}`);
  }
  const diagnostics = await typeCheck(files);
  const sources = new Map<string, string>();
  let errors = 0;
  for (const d of diagnostics) {
    if (d.diagnostic.severity === "error") errors++;
    if (d.source && d.diagnostic.locations?.[0]) sources.set(d.diagnostic.locations[0].file, d.source);
    ctx.stderr(formatDiagnostic(d.diagnostic, ctx.color, sources));
  }
  const noun = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  ctx.stderr(errors ? `\nFound ${noun(errors, "error")} in ${noun(files.length, "file")}.\n` : `Checked ${noun(files.length, "file")}: no errors.\n`);
  return errors ? 1 : 0;
}

export interface CheckedDiagnostic {
  readonly diagnostic: Diagnostic;
  readonly source?: string;
}

/** Runs the TypeScript compiler (through ts-morph) over the given files and maps its diagnostics to Strata's. */
export async function typeCheck(files: readonly string[]): Promise<CheckedDiagnostic[]> {
  const { Project, ts } = await import("ts-morph");
  const tsconfig = findUp(dirname(files[0]!), "tsconfig.json");
  const overrides = { noEmit: true, allowImportingTsExtensions: true };
  const project = tsconfig
    ? new Project({ tsConfigFilePath: tsconfig, skipAddingFilesFromTsConfig: true, compilerOptions: overrides })
    : new Project({
        compilerOptions: {
          ...overrides,
          strict: true,
          target: ts.ScriptTarget.ES2022,
          module: ts.ModuleKind.ESNext,
          moduleResolution: ts.ModuleResolutionKind.Bundler,
          skipLibCheck: true,
          types: ["node"],
        },
      });
  const sourceFiles = files.map((f) => project.addSourceFileAtPath(f));
  const program = project.getProgram().compilerObject;
  const out: CheckedDiagnostic[] = [];
  const raw = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  for (const sf of sourceFiles) {
    const c = sf.compilerNode;
    raw.push(...program.getSyntacticDiagnostics(c), ...program.getSemanticDiagnostics(c));
  }
  for (const d of raw) {
    const locations: SourceLocation[] = [];
    if (d.file && d.start !== undefined) {
      const s = d.file.getLineAndCharacterOfPosition(d.start);
      const e = d.file.getLineAndCharacterOfPosition(d.start + (d.length ?? 1));
      locations.push({ file: d.file.fileName, line: s.line + 1, column: s.character + 1, endLine: e.line + 1, endColumn: e.character + 1 });
    }
    const severity = d.category === ts.DiagnosticCategory.Error ? "error" : d.category === ts.DiagnosticCategory.Warning ? "warning" : "info";
    out.push({
      diagnostic: { code: `TS${d.code}`, severity, message: ts.flattenDiagnosticMessageText(d.messageText, "\n  "), locations },
      ...(d.file ? { source: d.file.text } : {}),
    });
  }
  return out;
}

function findUp(dir: string, name: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    const p = join(d, name);
    if (existsSync(p)) return p;
    if (dirname(d) === d) return undefined;
  }
}

function findImageModules(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === "node_modules" || e.name.startsWith(".")) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".image.ts")) out.push(p);
    }
  };
  walk(root);
  return out.sort();
}
