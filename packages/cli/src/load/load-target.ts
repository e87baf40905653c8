import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { formatDiagnostic } from "../ui/report-error.ts";
import { StrataError, type LayerGraph } from "@strata/graph";
import type { CliContext } from "../context.ts";
import { readEvalCache, writeEvalCache } from "./eval-cache.ts";
import { loadImageModule } from "./load-module.ts";
import { strataHome } from "./strata-home.ts";

/** Dockerfile, *.Dockerfile, Dockerfile.*, Containerfile (any case). */
export function isDockerfileName(file: string): boolean {
  const b = basename(file);
  return /^(dockerfile|containerfile)(\..+)?$/i.test(b) || /\.(dockerfile|containerfile)$/i.test(b);
}

export interface LoadedGraphs {
  readonly file: string;
  readonly kind: "image-module" | "dockerfile";
  /** Target name → graph (`default` for a module's default export). */
  readonly targets: ReadonlyMap<string, LayerGraph>;
  readonly defaultTarget: string | undefined;
  /** For a Dockerfile: its text and the importer's result (stages, AST with comments). */
  readonly dockerfile?: { readonly text: string; readonly imported: import("@strata/dockerfile").ImportedDockerfile };
}

/** Loads FILE (image module or Dockerfile) into the graphs of all its targets. */
export async function loadGraphs(file: string, ctx: CliContext, opts: { evalCache?: boolean; contextDir?: string; anyName?: boolean; namedContexts?: readonly string[] } = {}): Promise<LoadedGraphs> {
  const abs = resolve(ctx.cwd, file);
  if (!existsSync(abs) || !statSync(abs).isFile()) {
    throw new StrataError("STRATA_FILE_NOT_FOUND", `no such file: ${file}`, { hint: "give the path of a .image.ts module or a Dockerfile" });
  }
  // `-f FILE` (anyName): any name that is not a module's is a Dockerfile, as docker reads -f.
  if (isDockerfileName(file) || (opts.anyName && !/\.(m|c)?[jt]sx?$/.test(file))) return loadDockerfile(abs, ctx, opts.contextDir, opts.namedContexts);
  if (!/\.(m|c)?[jt]sx?$/.test(file)) {
    throw new StrataError("STRATA_UNKNOWN_INPUT", `don't know how to read ${file}`, {
      hint: "give a .image.ts module, or a Dockerfile named Dockerfile, *.Dockerfile, Dockerfile.* or Containerfile",
    });
  }
  const cacheDir = strataHome(ctx.env);
  const useCache = opts.evalCache ?? ctx.env.STRATA_NO_EVAL_CACHE === undefined;
  const cached = useCache ? readEvalCache(cacheDir, abs) : undefined;
  let targets: ReadonlyMap<string, LayerGraph>;
  if (cached) targets = cached;
  else {
    const mod = await loadImageModule(abs, { cacheDir });
    targets = new Map([...mod.targets].map(([name, image]) => [name, image.toGraph()]));
    if (useCache) writeEvalCache(cacheDir, abs, mod.inputs, targets);
  }
  return { file: abs, kind: "image-module", targets, defaultTarget: targets.has("default") ? "default" : undefined };
}

export interface LoadedTarget {
  readonly graph: LayerGraph;
  readonly name: string;
  readonly file: string;
  readonly all: LoadedGraphs;
}

export async function loadTarget(file: string, target: string | undefined, ctx: CliContext, opts: { contextDir?: string; anyName?: boolean; namedContexts?: readonly string[] } = {}): Promise<LoadedTarget> {
  const all = await loadGraphs(file, ctx, opts);
  // Dockerfile stage names are case-insensitive (BuildKit lower-cases them).
  const name = target !== undefined && all.kind === "dockerfile" ? target.toLowerCase() : (target ?? all.defaultTarget);
  const names = [...all.targets.keys()];
  if (!name) {
    throw new StrataError("STRATA_NO_DEFAULT_TARGET", `${file} has no default target`, {
      hint: names.length ? `pick one with --target (${names.join(", ")}) or add \`export default …\`` : 'export an Image: `export default from("…")…`',
    });
  }
  const graph = all.targets.get(name);
  if (!graph) {
    throw new StrataError("STRATA_UNKNOWN_TARGET", `no target ${JSON.stringify(name)} in ${file}`, {
      hint: names.length ? `targets: ${names.join(", ")}` : "the file defines no image",
    });
  }
  return { graph, name, file: all.file, all };
}

/**
 * A Dockerfile: imported into the builders' graphs, one target per stage (by name, or by
 * index for unnamed stages). The `.dockerignore` that docker would apply (`<Dockerfile>.dockerignore`,
 * else the context's) becomes the context's exclude list.
 */
async function loadDockerfile(abs: string, ctx: CliContext, contextDir: string = dirname(abs), namedContexts: readonly string[] = []): Promise<LoadedGraphs> {
  const [{ importDockerfile }, { findIgnoreFile }] = await Promise.all([import("@strata/dockerfile"), import("@strata/engine")]);
  const ignore = findIgnoreFile(contextDir, abs);
  const bytes = readFileSync(abs);
  const imported = importDockerfile(bytes, { file: abs, ...(ignore ? { ignore: ignore.patterns } : {}), namedContexts, env: ctx.env });
  for (const d of imported.diagnostics) if (d.severity !== "error") ctx.stderr(formatDiagnostic(d, ctx.color));
  const targets = new Map<string, LayerGraph>();
  for (const s of imported.stages) {
    const g = s.image.toGraph();
    targets.set(s.name ?? String(s.index), g);
  }
  const last = imported.stages[imported.stages.length - 1]!;
  return { file: abs, kind: "dockerfile", targets, defaultTarget: last.name ?? String(last.index), dockerfile: { text: bytes.toString("utf8"), imported } };
}
