import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { createRequire } from "node:module";
import { isStrataError, SourceOp, StrataError } from "@strata/graph";
import type { GeneratedModule } from "@strata/codegen";
import type { CommandSpec, ParsedArgs } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { loadImageModule } from "../load/load-module.ts";
import { strataHome } from "../load/strata-home.ts";
import { formatDiagnostic } from "../ui/report-error.ts";
import { writeOutput } from "../ui/write-output.ts";

export const spec: CommandSpec = {
  name: "import",
  summary: "Convert a Dockerfile into a typed .image.ts module.",
  usage: "strata import FILE|- [-o OUT] [--target NAME]",
  description:
    "Reads a Dockerfile (FILE, or - for standard input) and writes an .image.ts module that builds the\n" +
    "same images: global ARGs become typed arg() consts, each stage a const named after it (a named\n" +
    "export, so --target NAME picks the same stage), COPY --from reads the stage's value, comments stay.\n" +
    "The target stage (default: the last) is the default export. The .dockerignore docker would apply\n" +
    "becomes the build context's exclude list.\n" +
    "Before anything is written the module is loaded as `strata graph` loads it, and every stage must\n" +
    "give the same graph digest as the Dockerfile; otherwise the command fails with\n" +
    "STRATA_IMPORT_MISMATCH (a bug in strata) and writes nothing.",
  positionals: { min: 1, max: 1 },
  options: [
    { name: "output", short: "o", type: "string", placeholder: "OUT", description: "write the module to this file (atomically) instead of stdout" },
    { name: "target", type: "string", placeholder: "NAME", description: "the stage (name or index) that becomes the default export (default: the last)" },
  ],
  examples: ["strata import Dockerfile -o app.image.ts", "strata import Dockerfile --target build", "cat Dockerfile | strata import - > app.image.ts"],
};

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const file = args.positionals[0]!;
  const fromStdin = file === "-";
  const abs = fromStdin ? undefined : resolve(ctx.cwd, file);
  if (abs !== undefined && (!existsSync(abs) || !statSync(abs).isFile())) {
    throw new StrataError("STRATA_FILE_NOT_FOUND", `no such file: ${file}`, { hint: "give the path of a Dockerfile, or - to read one from standard input" });
  }
  const text = abs === undefined ? await ctx.stdin() : readFileSync(abs);
  const [{ generateImageModule }, { findIgnoreFile }] = await Promise.all([import("@strata/codegen"), import("@strata/engine")]);
  // As `docker build`: the context is the Dockerfile's directory (the working directory for stdin).
  const contextDir = abs === undefined ? ctx.cwd : dirname(abs);
  const ignore = findIgnoreFile(contextDir, abs);
  const generated = generateImageModule(text, {
    file: abs ?? "<stdin>",
    ...(ignore ? { ignore: ignore.patterns } : {}),
    ...(args.options.target !== undefined ? { target: args.options.target as string } : {}),
  });
  for (const d of generated.diagnostics) ctx.stderr(formatDiagnostic(d, ctx.color));
  await verify(generated, ctx);

  const out = args.options.output as string | undefined;
  if (!out) {
    ctx.stdout(generated.source);
    return 0;
  }
  const path = resolve(ctx.cwd, out);
  writeOutput(path, generated.source);
  const stages = generated.targets.length;
  ctx.stderr(`strata import: wrote ${relative(ctx.cwd, path) || path} (${stages} stage${stages === 1 ? "" : "s"}, graph digests verified)\n`);
  if (dirname(path) !== contextDir && readsContext(generated)) {
    ctx.stderr(`note: context(".") in the module is ${relative(ctx.cwd, dirname(path)) || "."}; the Dockerfile's context was ${relative(ctx.cwd, contextDir) || "."}\n`);
  }
  return 0;
}

/**
 * The invariant, checked on every import: the module, loaded the way `strata graph` loads
 * modules (bundled with esbuild against this strata's own @strata/core), gives every stage's
 * export the digest the Dockerfile gives that stage. A difference is a bug in the generator.
 */
async function verify(generated: GeneratedModule, ctx: CliContext): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "strata-import-"));
  try {
    const scope = join(dir, "node_modules", "@strata");
    mkdirSync(scope, { recursive: true });
    symlinkSync(packageDir(createRequire(import.meta.url).resolve("@strata/core")), join(scope, "core"), "dir");
    const modulePath = join(dir, "app.image.ts");
    writeOutput(modulePath, generated.source);
    let targets: Awaited<ReturnType<typeof loadImageModule>>["targets"];
    try {
      targets = (await loadImageModule(modulePath, { cacheDir: strataHome(ctx.env) })).targets;
    } catch (e) {
      throw mismatch(`the generated module does not load: ${isStrataError(e) ? e.message : (e as Error).message}`);
    }
    for (const t of generated.targets) {
      const want = generated.imported.stages.find((s) => (s.name ?? String(s.index)) === t.dockerfile)!.image.toGraph().digest;
      for (const name of t.exports) {
        const got = targets.get(name)?.toGraph().digest;
        if (got !== want) {
          throw mismatch(`stage ${JSON.stringify(t.dockerfile)}: export ${JSON.stringify(name)} of the generated module ${got ? `has digest ${got}, the Dockerfile ${want}` : "is missing"}`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether any stage reads the build context (a local source in its graph). */
function readsContext(generated: GeneratedModule): boolean {
  return generated.imported.stages.some((s) => [...s.image.toGraph().nodes.values()].some((op) => SourceOp.is(op) && op.source.type === "local"));
}

function mismatch(message: string): StrataError {
  return new StrataError("STRATA_IMPORT_MISMATCH", message, {
    hint: "this is a bug in strata's code generator; nothing was written. Please report it with the Dockerfile",
  });
}

/** The directory of the package a resolved entry point belongs to (the nearest package.json). */
function packageDir(entry: string): string {
  for (let d = dirname(entry); ; d = dirname(d)) {
    if (existsSync(join(d, "package.json"))) return d;
    if (dirname(d) === d) throw new Error(`no package.json above ${entry}`);
  }
}
