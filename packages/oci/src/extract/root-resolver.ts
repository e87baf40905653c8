import { lstatSync, mkdirSync, readlinkSync } from "node:fs";
import { StrataError } from "@strata/graph";

const MAX_SYMLINKS = 40; // Linux's MAXSYMLINKS

/**
 * Resolves directory paths inside an extraction root as if the root were `/` (chroot
 * semantics): a symlink met on the way is followed, but an absolute target restarts at the
 * root and `..` never climbs above it, so no resolution can leave the root. The last
 * component of an entry is never resolved here — extraction replaces it, never follows it.
 *
 * Resolutions are cached; the extractor calls `invalidate()` whenever it removes a
 * directory or a symlink, the only changes that can alter an earlier resolution.
 */
export class RootResolver {
  private readonly cache = new Map<string, string>();

  /** `root` must be an absolute, symlink-free path (the extractor passes its realpath). */
  constructor(readonly root: string) {}

  abs(rel: string): string {
    return rel === "" ? this.root : `${this.root}/${rel}`;
  }

  invalidate(): void {
    this.cache.clear();
  }

  /**
   * The real root-relative path ("" is the root) of directory `parts`. Missing components
   * are created (mode 0755) and reported to `onCreate` when given; without it a missing
   * component gives undefined. A component that is a file throws STRATA_EXTRACT_NOT_A_DIRECTORY.
   */
  resolveDir(parts: readonly string[], onCreate?: (rel: string) => void): string | undefined {
    const key = parts.join("/");
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const stack: string[] = [];
    const queue = parts.slice();
    let links = 0;
    while (queue.length > 0) {
      const c = queue.shift() as string;
      if (c === "" || c === ".") continue;
      if (c === "..") {
        stack.pop();
        continue;
      }
      const rel = stack.length === 0 ? c : `${stack.join("/")}/${c}`;
      const st = lstatSync(this.abs(rel), { throwIfNoEntry: false });
      if (!st) {
        if (!onCreate) return undefined;
        mkdirSync(this.abs(rel), { mode: 0o755 });
        onCreate(rel);
        stack.push(c);
      } else if (st.isDirectory()) {
        stack.push(c);
      } else if (st.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS) {
          throw new StrataError("STRATA_EXTRACT_SYMLINK_LOOP", `too many levels of symbolic links resolving ${JSON.stringify(key)}`);
        }
        const target = readlinkSync(this.abs(rel));
        if (target.startsWith("/")) stack.length = 0;
        queue.unshift(...target.split("/"));
      } else {
        throw new StrataError("STRATA_EXTRACT_NOT_A_DIRECTORY", `cannot extract below ${JSON.stringify(rel)}: it is not a directory`, {
          hint: "the layer places entries under a path that an earlier entry or layer made a file",
        });
      }
    }
    const real = stack.join("/");
    this.cache.set(key, real);
    return real;
  }

  /** True when every component of `rel` is a real directory (no symlinks) except the last, which must not be a symlink either. */
  isPlain(rel: string): boolean {
    if (rel === "") return true;
    const parts = rel.split("/");
    let cur = "";
    for (let i = 0; i < parts.length; i++) {
      cur = cur === "" ? (parts[i] as string) : `${cur}/${parts[i]}`;
      const st = lstatSync(this.abs(cur), { throwIfNoEntry: false });
      if (!st || st.isSymbolicLink()) return false;
      if (i < parts.length - 1 && !st.isDirectory()) return false;
    }
    return true;
  }
}
