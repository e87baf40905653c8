import { readFileSync, existsSync } from "node:fs";
import { resolve } from "node:path";
import { StrataError } from "@strata/graph";
import type { CommandSpec, ParsedArgs } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { formatDiagnostic } from "../ui/report-error.ts";

export const spec: CommandSpec = {
  name: "parse",
  summary: "Parse a Dockerfile and print its diagnostics, BuildKit's dump of the tree, or the full AST.",
  usage: "strata parse FILE [--dump | --json]",
  description:
    "Without a flag, prints the problems found (errors and BuildKit build-check warnings) with their\n" +
    "positions; exit status 1 when there is an error. --dump prints the tree exactly as BuildKit's\n" +
    "parser Node.Dump() does, one s-expression per instruction; --json the typed AST with spans.",
  positionals: { min: 1, max: 1 },
  options: [
    { name: "dump", type: "boolean", description: "print BuildKit's Node.Dump() form" },
    { name: "json", type: "boolean", description: "print the typed AST (with spans) as JSON" },
    { name: "no-lint", type: "boolean", description: "skip the build-check warnings" },
  ],
  examples: ["strata parse Dockerfile", "strata parse Dockerfile --dump"],
};

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const file = args.positionals[0]!;
  const abs = resolve(ctx.cwd, file);
  const text = file === "-" ? await ctx.stdin() : existsSync(abs) ? readFileSync(abs) : undefined;
  if (text === undefined) throw new StrataError("STRATA_FILE_NOT_FOUND", `no such file: ${file}`);
  const { parseDockerfile, dumpAst, toJson, toGraphDiagnostic } = await import("@strata/dockerfile");
  const result = parseDockerfile(text, { file: abs, lint: !args.options["no-lint"], env: ctx.env });
  const source = typeof text === "string" ? text : text.toString("utf8");
  const sources = new Map([[abs, source]]);
  const errors = result.diagnostics.filter((d) => d.severity === "error").length;
  if (args.options.dump) ctx.stdout(`${dumpAst(result.ast)}\n`);
  else if (args.options.json) ctx.stdout(`${JSON.stringify(toJson(result), null, 2)}\n`);
  for (const d of result.diagnostics) {
    if (args.options.dump || args.options.json) {
      if (d.severity === "error") ctx.stderr(formatDiagnostic(toGraphDiagnostic(d, abs), ctx.color, sources));
    } else ctx.stderr(formatDiagnostic(toGraphDiagnostic(d, abs), ctx.color, sources));
  }
  if (!args.options.dump && !args.options.json && !result.diagnostics.length) {
    ctx.stderr(`${file}: ${result.ast.stages.length} stage${result.ast.stages.length === 1 ? "" : "s"}, no problems\n`);
  }
  return errors ? 1 : 0;
}
