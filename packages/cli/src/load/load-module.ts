import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { StrataError } from "@strata/graph";
import { declareArg, isImage, type Image } from "@strata/core";

export interface LoadedModule {
  readonly file: string;
  /** Export name → image; the default export is named `default`. */
  readonly targets: ReadonlyMap<string, Image>;
  /** Files esbuild read to bundle the module (for caching the evaluated graph). */
  readonly inputs: readonly string[];
}

/**
 * Loads an image module: esbuild bundles it with everything it imports (relative files,
 * workspace packages, npm dependencies) into one ESM file, which Node then evaluates.
 * Bundles are written content-addressed under the cache, so an unchanged module is not
 * written twice. Source maps are on, so errors and call sites point at the `.ts` lines.
 */
export async function loadImageModule(file: string, opts: { cacheDir: string }): Promise<LoadedModule> {
  const abs = resolve(file);
  if (!existsSync(abs) || !statSync(abs).isFile()) {
    throw new StrataError("STRATA_FILE_NOT_FOUND", `no such file: ${file}`, { hint: "give the path of a .image.ts module (or a Dockerfile)" });
  }
  const { build } = await import("esbuild");
  let result;
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
      // Source map paths are relative to the output file: place it where the bundle is written.
      outfile: join(opts.cacheDir, "modules", "bundle.mjs"),
      banner: { js: "import { createRequire as __sCR } from 'node:module'; const require = __sCR(import.meta.url);" },
    });
  } catch (e) {
    const errors = (e as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number; length: number } | null }> }).errors ?? [];
    const first = errors[0];
    throw new StrataError("STRATA_MODULE_BUILD", `cannot bundle ${file}: ${first?.text ?? (e as Error).message}`, {
      locations: errors.flatMap((er) =>
        er.location ? [{ file: resolve(dirname(abs), er.location.file), line: er.location.line, column: er.location.column + 1, endLine: er.location.line, endColumn: er.location.column + 1 + er.location.length }] : [],
      ),
      hint: "check the import paths; workspace packages need `pnpm install`",
    });
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
  let ns: Record<string, unknown>;
  try {
    ns = (await import(pathToFileURL(out).href)) as Record<string, unknown>;
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
  const inputs = Object.keys(result.metafile.inputs).map((p) => resolve(dirname(abs), p));
  return { file: abs, targets, inputs };
}

/** Errors thrown by the user's module are about the user's code: report them at its frame. */
function markUserError(e: unknown): unknown {
  if (e instanceof Error && e.name !== "StrataError") Object.assign(e, { strataUserError: true });
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
