import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isStrataError, StrataError } from "@strata/graph";
import { declareArg, isImage, type Image } from "@strata/core";
import { parseFirstUserFrame } from "../ui/stack.ts";
import { trackFsReads } from "./fs-reads.ts";
import { moduleMetaPlugin, MODULE_META_DEFINE } from "./module-meta.ts";
import { fallbackNodePaths } from "./fallback-node-paths.ts";

export interface LoadedModule {
  readonly file: string;
  /** Export name → image; the default export is named `default`. */
  readonly targets: ReadonlyMap<string, Image>;
  /**
   * Files esbuild read to bundle the module and paths the module touched through `node:fs`
   * while it was evaluated (for validating the evaluated-graph cache).
   */
  readonly inputs: readonly string[];
}

/**
 * Loads an image module: esbuild bundles it with everything it imports (relative files,
 * workspace packages, npm dependencies) into one ESM file, which Node then evaluates.
 * Bundles are written content-addressed under the cache, so an unchanged module is not
 * written twice. Source maps are on, so errors and call sites point at the `.ts` lines.
 *
 * The module runs as its author expects though it is bundled: `import.meta.url` (and
 * `dirname`/`filename`, `__dirname`, `__filename`) name each bundled file's own path, and the
 * working directory during evaluation is the module's directory, so relative reads resolve
 * against it. Packages resolve from the module's directory first (the project's own
 * `@strata/core`), then from the CLI's installation (a global `strata` in a bare directory).
 */
export async function loadImageModule(file: string, opts: { cacheDir: string }): Promise<LoadedModule> {
  const abs = resolve(file);
  if (!existsSync(abs) || !statSync(abs).isFile()) {
    throw new StrataError("STRATA_FILE_NOT_FOUND", `no such file: ${file}`, { hint: "give the path of a .image.ts module (or a Dockerfile)" });
  }
  const { build } = await import("esbuild");
  let result: import("esbuild").BuildResult<{ write: false; metafile: true }>;
  try {
    result = await build({
      entryPoints: [abs],
      bundle: true,
      write: false,
      format: "esm",
      platform: "node",
      target: "node20",
      sourcemap: "inline",
      sourcesContent: false,
      metafile: true,
      logLevel: "silent",
      absWorkingDir: dirname(abs),
      nodePaths: fallbackNodePaths(),
      define: MODULE_META_DEFINE,
      plugins: [moduleMetaPlugin()],
      // Source map paths are relative to the output file: place it where the bundle is written.
      outfile: join(opts.cacheDir, "modules", "bundle.mjs"),
      banner: { js: "import { createRequire as __sCR } from 'node:module'; const require = __sCR(import.meta.url);" },
    });
  } catch (e) {
    throw bundleError(e, file, abs);
  }
  const code = result.outputFiles[0]!.text;
  const dir = join(opts.cacheDir, "modules");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${createHash("sha256").update(code).digest("hex").slice(0, 32)}.mjs`);
  if (!existsSync(out)) {
    const tmp = `${out}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, out);
  }
  process.setSourceMapsEnabled(true);
  const { findIgnoreFile } = await import("@strata/engine");
  const { value: targets, reads } = await trackFsReads(dirname(abs), () =>
    withContextIgnore((path) => findIgnoreFile(resolve(dirname(abs), path))?.patterns, () => withCwd(dirname(abs), () => evaluate(out))),
  );
  const inputs = new Set(Object.keys(result.metafile.inputs).map((p) => resolve(dirname(abs), p.replace(/^[a-z-]+:/, ""))));
  for (const r of reads) if (!r.startsWith(opts.cacheDir)) inputs.add(r);
  return { file: abs, targets, inputs: [...inputs] };
}

async function evaluate(bundle: string): Promise<Map<string, Image>> {
  let ns: Record<string, unknown>;
  try {
    ns = (await import(pathToFileURL(bundle).href)) as Record<string, unknown>;
  } catch (e) {
    throw markUserError(e);
  }
  const targets = new Map<string, Image>();
  for (const [name, value] of Object.entries(ns)) {
    let v = value;
    if (name === "default" && typeof v === "function") {
      try {
        v = (v as (args: unknown) => unknown)(symbolicArgs());
      } catch (e) {
        throw markUserError(e);
      }
    }
    if (isImage(v)) targets.set(name, v);
  }
  return targets;
}

const CONTEXT_IGNORE = Symbol.for("strata.contextIgnore");

/** Runs `fn` with `context(path)` reading the `.dockerignore` of that directory (see @strata/core's sources.ts). */
async function withContextIgnore<T>(reader: (path: string) => readonly string[] | undefined, fn: () => Promise<T>): Promise<T> {
  const g = globalThis as Record<symbol, unknown>;
  const previous = g[CONTEXT_IGNORE];
  g[CONTEXT_IGNORE] = reader;
  try {
    return await fn();
  } finally {
    g[CONTEXT_IGNORE] = previous;
  }
}

/** Runs `fn` with the working directory set to `dir` (where the module's relative reads resolve). */
async function withCwd<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  let previous: string | undefined;
  try {
    previous = process.cwd();
    process.chdir(dir);
  } catch {
    previous = undefined; // worker threads cannot chdir; relative reads then use the process's cwd
  }
  try {
    return await fn();
  } finally {
    if (previous !== undefined) process.chdir(previous);
  }
}

interface EsbuildMessage {
  readonly text: string;
  readonly location?: { file: string; line: number; column: number; length: number } | null;
}

/** esbuild's failure as a coded error: a syntax error says so, with its position; an unresolved import names the import. */
function bundleError(e: unknown, file: string, abs: string): StrataError {
  const errors = (e as { errors?: EsbuildMessage[] }).errors ?? [];
  const first = errors[0];
  const locations = errors.flatMap((er) =>
    er.location ? [{ file: resolve(dirname(abs), er.location.file), line: er.location.line, column: er.location.column + 1, endLine: er.location.line, endColumn: er.location.column + 1 + er.location.length }] : [],
  );
  const unresolved = errors.length > 0 && errors.every((er) => er.text.startsWith("Could not resolve"));
  if (first && !unresolved) {
    const at = first.location ? `${resolve(dirname(abs), first.location.file)}:${first.location.line}:${first.location.column + 1}: ` : "";
    return new StrataError("STRATA_MODULE_SYNTAX", `syntax error in ${at || `${file}: `}${first.text}`, {
      locations,
      hint: "fix the code at the position shown (`strata check` reports every error of the module)",
    });
  }
  return new StrataError("STRATA_MODULE_BUILD", `cannot bundle ${file}: ${first?.text ?? (e as Error).message}`, {
    locations,
    hint: "check the import paths; a package must be installed in the module's project (`npm i -D @strata/core`)",
  });
}

/**
 * Errors thrown by the user's module are about the user's code: report them at its frame. A
 * coded error raised inside a fragment or builder without a location of its own gets the first
 * frame in the user's code (the call of the fragment), not a line inside the package.
 */
function markUserError(e: unknown): unknown {
  // The module's StrataError class is its own copy of @strata/graph's: recognise it by name.
  if (isStrataError(e)) return e.locations.length ? e : e.withLocation(parseFirstUserFrame(e.stack ?? ""));
  if (e instanceof Error) Object.assign(e, { strataUserError: true });
  return e;
}

/**
 * What a default-exported function receives: each property is the build arg of that name,
 * symbolic (`${NAME}` in templates). It carries no default: a stage that re-declares a global
 * arg (`.arg(args.NAME)`) reads the global's value, as Dockerfile `ARG NAME` in a stage does.
 * (Global args live in the module's own copy of @strata/core, which this process never shares.)
 */
function symbolicArgs(): Record<string, unknown> {
  return new Proxy({}, { get: (_t, name) => (typeof name === "string" ? declareArg(name) : undefined) });
}
