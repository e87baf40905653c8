import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Records the paths a module touches through `node:fs` while it is evaluated (reads, stats,
 * existence checks, directory listings), so the evaluated-graph cache can validate them like
 * the module's own sources: a module that reads `package.json` or a version file is re-evaluated
 * when that file changes, never served stale. The fs functions are wrapped for the duration of
 * `fn` and the live bindings of `import { readFileSync } from "node:fs"` are re-synced
 * (`syncBuiltinESMExports`), so both CommonJS and ESM call styles are seen.
 */
export async function trackFsReads<T>(cwd: string, fn: () => Promise<T>): Promise<{ value: T; reads: Set<string> }> {
  const reads = new Set<string>();
  const record = (p: unknown) => {
    const path = toPath(p, cwd);
    if (path) reads.add(path);
  };
  const restore: Array<() => void> = [];
  const wrap = (target: Record<string, unknown>, names: readonly string[]) => {
    for (const name of names) {
      const original = target[name];
      if (typeof original !== "function") continue;
      target[name] = function (this: unknown, ...args: unknown[]) {
        record(args[0]);
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      };
      restore.push(() => {
        target[name] = original;
      });
    }
  };
  const fsObj = fs as unknown as Record<string, unknown>;
  wrap(fsObj, ["readFileSync", "readFile", "existsSync", "statSync", "lstatSync", "readdirSync", "readdir", "stat", "lstat", "openSync", "open", "accessSync", "access", "createReadStream", "readlinkSync", "realpathSync", "opendirSync"]);
  wrap(fs.promises as unknown as Record<string, unknown>, ["readFile", "stat", "lstat", "readdir", "access", "open", "opendir", "readlink", "realpath"]);
  syncBuiltinESMExports();
  try {
    const value = await fn();
    return { value, reads };
  } finally {
    for (const r of restore.reverse()) r();
    syncBuiltinESMExports();
  }
}

function toPath(p: unknown, cwd: string): string | undefined {
  if (typeof p === "string") return resolve(cwd, p);
  if (p instanceof URL) return p.protocol === "file:" ? fileURLToPath(p) : undefined;
  if (Buffer.isBuffer(p)) return resolve(cwd, p.toString());
  return undefined; // a file descriptor: its path was recorded when it was opened
}
