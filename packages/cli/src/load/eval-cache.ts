import { randomBytes, createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { graphFromJson, graphToJson, type GraphJson, type LayerGraph } from "@strata/graph";
import { VERSION } from "../version.ts";

/**
 * Evaluated graphs of image modules, keyed by the module's path and validated by the size and
 * mtime of every file esbuild read to bundle it and every path the module touched through
 * `node:fs` while it ran (a path that did not exist is recorded as absent, size -1, and must
 * still be absent). A hit skips esbuild and module evaluation
 * entirely (what makes a no-op `strata build` cost little more than Node's start-up). Image
 * modules must be deterministic functions of their source files for this to hold, which the
 * builders guarantee (they do no I/O; build args stay symbolic).
 */
interface CacheFile {
  readonly version: string;
  readonly file: string;
  readonly inputs: ReadonlyArray<{ readonly path: string; readonly size: number; readonly mtimeMs: number }>;
  readonly targets: Readonly<Record<string, GraphJson>>;
}

/** Entries written by another build of strata are misses (its graph encoding or builders may differ). */
const FORMAT = `eval-v2/${VERSION}/${cliBuildStamp()}`;

function cliBuildStamp(): string {
  try {
    return String(statSync(fileURLToPath(import.meta.url)).mtimeMs);
  } catch {
    return "unknown";
  }
}

function cachePath(cacheDir: string, file: string): string {
  return join(cacheDir, "eval", `${createHash("sha256").update(file).digest("hex").slice(0, 32)}.json`);
}

export function readEvalCache(cacheDir: string, file: string): Map<string, LayerGraph> | undefined {
  let data: CacheFile;
  try {
    data = JSON.parse(readFileSync(cachePath(cacheDir, file), "utf8")) as CacheFile;
  } catch {
    return undefined;
  }
  if (data.version !== FORMAT || data.file !== file) return undefined;
  for (const input of data.inputs) {
    const st = statSync(input.path, { throwIfNoEntry: false });
    if (!st) {
      if (input.size !== -1) return undefined;
    } else if (st.size !== input.size || st.mtimeMs !== input.mtimeMs) return undefined;
  }
  try {
    return new Map(Object.entries(data.targets).map(([name, g]) => [name, graphFromJson(g)]));
  } catch {
    return undefined; // a corrupt or foreign entry is a miss, never an error
  }
}

export function writeEvalCache(cacheDir: string, file: string, inputs: readonly string[], targets: ReadonlyMap<string, LayerGraph>): void {
  try {
    const entry: CacheFile = {
      version: FORMAT,
      file,
      inputs: inputs.map((path) => {
        const st = statSync(path, { throwIfNoEntry: false });
        return st ? { path, size: st.size, mtimeMs: st.mtimeMs } : { path, size: -1, mtimeMs: -1 };
      }),
      targets: Object.fromEntries([...targets].map(([name, g]) => [name, graphToJson(g)])),
    };
    const path = cachePath(cacheDir, file);
    mkdirSync(join(cacheDir, "eval"), { recursive: true });
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    writeFileSync(tmp, JSON.stringify(entry));
    renameSync(tmp, path);
  } catch {
    // The cache is an optimisation: failing to write it must not fail the command.
  }
}
