import { lstat, readlink } from "node:fs/promises";
import { join } from "node:path/posix";
import { StrataError } from "@strata/graph";

const MAX_SYMLINKS = 255;

/**
 * Resolves a container path to a host path inside `root`, following symlinks as the
 * container would see them: absolute link targets and `..` are clamped at `root`, so the
 * result never leaves it (the same rule as runc's securejoin). Missing components are kept
 * as written, so the result also names paths that do not exist yet.
 *
 * Only safe while nothing inside the root runs: a process there could swap a directory for
 * a symlink between this check and the use of the path.
 */
export async function resolveInRoot(root: string, containerPath: string): Promise<string> {
  return join(root, await resolveRelative(root, containerPath));
}

/** Like {@link resolveInRoot} but returns the resolved root-relative path ("" for the root). */
export async function resolveRelative(root: string, containerPath: string): Promise<string> {
  const pending = splitPath(containerPath);
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "..") {
      done.pop();
      continue;
    }
    const candidate = [...done, part];
    let st;
    try {
      st = await lstat(join(root, ...candidate));
    } catch (e) {
      if (isNotFound(e)) {
        done.push(part, ...pending.filter((p) => p !== ""));
        return normalizeParts(done).join("/");
      }
      throw e;
    }
    if (!st.isSymbolicLink()) {
      done.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) {
      throw new StrataError("STRATA_RUN_SYMLINK_LOOP", `too many levels of symbolic links resolving ${containerPath}`);
    }
    const target = await readlink(join(root, ...candidate));
    if (target.startsWith("/")) done.length = 0;
    pending.unshift(...splitPath(target));
  }
  return done.join("/");
}

function splitPath(p: string): string[] {
  return p.split("/").filter((s) => s !== "" && s !== ".");
}

function normalizeParts(parts: string[]): string[] {
  const out: string[] = [];
  for (const p of parts) {
    if (p === "..") out.pop();
    else out.push(p);
  }
  return out;
}

export function isNotFound(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}
