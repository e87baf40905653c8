import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import type { Diagnostic, SourceLocation } from "@strata/graph";
import type { CommandSpec, ParsedArgs } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { formatDiagnostic } from "../ui/report-error.ts";

export const spec: CommandSpec = {
  name: "check",
  summary: "Type-check image modules with the TypeScript compiler.",
  usage: "strata check [FILE|DIR...]",
  description:
    "Checks each .image.ts module (a DIR: every *.image.ts below it; default: below the current\n" +
    "directory) with the nearest tsconfig.json (strict defaults when there is none) and prints each\n" +
    "problem with its file:line:col and a code frame. Node's types come with strata (no @types/node\n" +
    "needed in the project). Misuse of an image package (a wrong option type) is caught here,\n" +
    "before anything is built. Exit status 1 when there are errors.",
  positionals: { min: 0, max: Number.POSITIVE_INFINITY },
  options: [],
  examples: ["strata check", "strata check examples/node-service/service.image.ts", "strata check images/"],
};

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const given = args.positionals.length ? args.positionals.map((f) => resolve(ctx.cwd, f)) : [ctx.cwd];
  const missing = given.find((f) => !existsSync(f));
  if (missing) {
    const { StrataError } = await import("@strata/graph");
    throw new StrataError("STRATA_FILE_NOT_FOUND", `no such file: ${missing}`);
  }
  const files = given.flatMap((f) => (statSync(f).isDirectory() ? findImageModules(f) : [f]));
  if (!files.length) {
    ctx.stderr("strata check: no *.image.ts files found\n");
    return 0;
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
          ...nodeTypeRoots(dirname(files[0]!), undefined),
          strict: true,
          target: ts.ScriptTarget.ES2022,
          module: ts.ModuleKind.ESNext,
          moduleResolution: ts.ModuleResolutionKind.Bundler,
          skipLibCheck: true,
          types: ["node"],
        },
      });
  if (tsconfig) {
    const roots = nodeTypeRoots(dirname(tsconfig), project.compilerOptions.get().typeRoots);
    if (roots.typeRoots) project.compilerOptions.set(roots);
  }
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

/**
 * Type roots that let `types: ["node"]` (and Node globals in a module) resolve without the
 * project installing `@types/node`: the project's own roots (given, or TypeScript's default of
 * every ancestor's `node_modules/@types`) come first, then the `@types` directory of the CLI's
 * own `@types/node` dependency. Nothing changes when the CLI has none (the workspace's is found
 * the default way).
 */
function nodeTypeRoots(dir: string, given: readonly string[] | undefined): { typeRoots?: string[] } {
  let ours: string;
  try {
    ours = dirname(dirname(createRequire(import.meta.url).resolve("@types/node/package.json")));
  } catch {
    return {};
  }
  const roots = given ? [...given] : [];
  if (!given) {
    for (let d = dir; ; d = dirname(d)) {
      const p = join(d, "node_modules", "@types");
      if (existsSync(p)) roots.push(p);
      if (dirname(d) === d) break;
    }
  }
  if (!roots.includes(ours)) roots.push(ours);
  return { typeRoots: roots };
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
