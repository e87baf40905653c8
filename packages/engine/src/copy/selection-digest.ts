import { createHash } from "node:crypto";
import { EMPTY_BASE } from "./base-fs.ts";
import { planCopyDetailed } from "./plan-copy.ts";
import { digestOfSource, type SourceTree } from "./source-tree.ts";

export interface SelectionOptions {
  readonly src: readonly string[];
  readonly parents?: boolean;
  readonly exclude?: readonly string[];
  readonly followSymlinks?: boolean;
  /**
   * Include mtimes. Off by default, like BuildKit's content hash: the layer writer clamps every
   * mtime to SOURCE_DATE_EPOCH (0 unless set), so they cannot change the layer. Turn it on if
   * layers keep real mtimes.
   */
  readonly mtime?: boolean;
}

const VERSION = "strata-copy-selection-v1";

/**
 * One digest over what a COPY reads: for every entry its sources select (after wildcards,
 * `--parents` and `--exclude`; directory sources expanded), sorted by the path it is copied
 * under: (path, type, mode, uid, gid, link target, device numbers, content digest). Owners
 * are those the copy would use without `--chown` (0:0 for the build context, the source
 * image's for another image). Destination, `--chown` and `--chmod` are not included: they
 * are part of the op, and the destination image has its own cache key. Content digests come
 * from the tree (the context's stat cache: a no-op rebuild reads no file).
 */
export async function selectionDigest(tree: SourceTree, opts: SelectionOptions): Promise<string> {
  const plan = await planCopyDetailed({
    source: tree,
    src: opts.src,
    dest: "/",
    base: EMPTY_BASE,
    link: true,
    allowEmptyWildcard: true,
    ...(opts.parents !== undefined ? { parents: opts.parents } : {}),
    ...(opts.exclude !== undefined ? { exclude: opts.exclude } : {}),
    ...(opts.followSymlinks !== undefined ? { followSymlinks: opts.followSymlinks } : {}),
  });
  const h = createHash("sha256").update(`${VERSION}\n`);
  for (const e of plan.entries) {
    if (e.type === "whiteout" || e.type === "opaque") continue;
    let digest = "";
    if (e.type === "file") {
      const origin = plan.origins.get(e.path);
      digest = origin !== undefined ? await digestOfSource(tree, origin) : "";
    }
    const rec: (string | number)[] = [e.path, e.type, e.mode, e.uid, e.gid];
    rec.push(e.type === "symlink" || e.type === "hardlink" ? e.linkname : "");
    rec.push(e.type === "char-device" || e.type === "block-device" ? `${e.devmajor},${e.devminor}` : "");
    rec.push(digest);
    if (opts.mtime) rec.push(e.mtime);
    h.update(`${JSON.stringify(rec)}\n`);
  }
  return `sha256:${h.digest("hex")}`;
}
