import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { imageDigest, referencedImages, type LayerGraph } from "@strata/graph";
import type { CommandSpec } from "../argv.ts";
import { usageError } from "../argv.ts";

/** What `strata build [-f FILE] [PATH]` builds, and from which context. */
export interface BuildInput {
  /** The image module or Dockerfile, relative to the CLI's cwd or absolute. */
  readonly file: string;
  /** `-f FILE`: any name is read (a Dockerfile unless it is a module). */
  readonly anyName: boolean;
  /** The main context directory the positional argument names (docker's PATH), if any. */
  readonly contextDir?: string;
}

/**
 * Reads the positional argument as docker does when it is a directory (the context, with its
 * `Dockerfile` or single `*.image.ts`) or when `-f` names the file; otherwise it is the file
 * itself (`strata build app.image.ts`, `strata build Dockerfile.dev`).
 */
export function buildInput(positional: string | undefined, fileFlag: string | undefined, cwd: string, spec: CommandSpec): BuildInput {
  if (fileFlag !== undefined) {
    if (fileFlag === "-") throw usageError("-f - (a Dockerfile on stdin) is not supported yet", spec);
    if (positional !== undefined && !isDir(resolve(cwd, positional))) throw usageError(`with -f, the argument is the context directory; ${JSON.stringify(positional)} is not a directory`, spec);
    return { file: fileFlag, anyName: true, ...(positional !== undefined ? { contextDir: resolve(cwd, positional) } : {}) };
  }
  if (positional !== undefined && isDir(resolve(cwd, positional))) {
    const dir = resolve(cwd, positional);
    return { file: join(dir, defaultInput(dir, spec)), anyName: false, contextDir: dir };
  }
  return { file: positional ?? defaultInput(cwd, spec), anyName: false };
}

function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

/** The only `*.image.ts` in `dir`, else its Dockerfile. */
function defaultInput(dir: string, spec: CommandSpec): string {
  const modules = readdirSync(dir).filter((f) => f.endsWith(".image.ts"));
  if (modules.length === 1) return modules[0]!;
  if (existsSync(join(dir, "Dockerfile"))) return "Dockerfile";
  throw usageError(modules.length ? `several image modules in ${dir} (${modules.join(", ")}): name one with -f` : `no FILE given and no *.image.ts or Dockerfile in ${dir}`, spec);
}

/** `--target a,b --target c` → [a, b, c] (empty: the default target). */
export function splitList(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
}

/**
 * `--no-cache-filter STAGE`: the ops a stage adds itself (not those of the stages or images it
 * starts from or copies from), which then run again.
 */
export function stageOwnOps(targets: ReadonlyMap<string, LayerGraph>, stages: readonly string[], spec: CommandSpec): Set<string> {
  const out = new Set<string>();
  const byImage = new Map([...targets.values()].map((g) => [g.digest, g] as const));
  for (const stage of stages) {
    const g = targets.get(stage) ?? targets.get(stage.toLowerCase());
    if (!g) throw usageError(`--no-cache-filter ${stage}: no such target or stage (${[...targets.keys()].join(", ")})`, spec);
    const inherited = new Set<string>();
    for (const ref of referencedImages(g)) {
      const other = byImage.get(imageDigest(ref));
      if (other && other !== g) for (const k of other.nodes.keys()) inherited.add(k);
    }
    for (const k of g.nodes.keys()) if (!inherited.has(k)) out.add(k);
  }
  return out;
}
