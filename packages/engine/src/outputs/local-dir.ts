import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, rmdirSync, utimesSync, type Stats } from "node:fs";
import { basename, dirname, join } from "node:path";
import { StrataError } from "@strata/graph";

/**
 * Fills a directory output atomically as far as the filesystem allows: `fill` writes into a
 * fresh directory on the same filesystem as `dest`; a `dest` that does not exist is then
 * created by one rename; an existing one (`--output .`) gets each entry renamed over its
 * own, directories merged (files of `dest` the image does not have are kept, as buildx
 * does). A failing `fill` leaves `dest` untouched. Symlinks in `dest` are never followed:
 * a symlink where the image has a directory is replaced, not written through.
 */
export async function writeLocalDir(dest: string, fill: (dir: string) => Promise<void>): Promise<void> {
  const exists = existsSync(dest) && lstatSync(dest).isDirectory();
  if (existsSync(dest) && !exists) throw new StrataError("STRATA_USAGE", `--output type=local,dest=${dest}: it exists and is not a directory`, { hint: "name a directory (it is created if missing), or use type=tar for a file" });
  if (!exists) mkdirSync(dirname(dest), { recursive: true });
  const tmp = exists ? join(dest, `.strata-output-${randomBytes(6).toString("hex")}`) : join(dirname(dest), `.${basename(dest)}.strata-tmp-${randomBytes(6).toString("hex")}`);
  mkdirSync(tmp, { mode: 0o700 });
  try {
    await fill(tmp);
    if (!exists) {
      renameSync(tmp, dest);
      return;
    }
    // dest itself keeps its owner and mode: it is the user's directory, not the image's root.
    merge(tmp, dest);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function merge(src: string, dst: string): void {
  for (const name of readdirSync(src)) {
    const s = join(src, name);
    const d = join(dst, name);
    const sl = lstatSync(s);
    let dl: Stats | undefined;
    try {
      dl = lstatSync(d);
    } catch {
      dl = undefined;
    }
    if (sl.isDirectory() && dl?.isDirectory()) {
      merge(s, d);
      setMeta(d, sl);
      rmdirSync(s);
      continue;
    }
    // rename() replaces a file or symlink in one step, but not a directory by a non-directory
    // or the reverse (a symlink where the image has a directory is removed, never followed).
    if (dl && (dl.isDirectory() || sl.isDirectory())) rmSync(d, { recursive: true, force: true });
    renameSync(s, d);
  }
}

function setMeta(path: string, st: Stats): void {
  if (process.getuid?.() === 0) chownSync(path, st.uid, st.gid);
  chmodSync(path, st.mode & 0o7777);
  utimesSync(path, st.atime, st.mtime);
}
