import { lstatSync, realpathSync, type Stats } from "node:fs";
import { join } from "node:path/posix";
import { StrataError, type SourceLocation } from "@strata/graph";
import { hostTree, resolveTreePath } from "../sandbox-util/tree-path.ts";

/** A mount source resolved inside its tree: the host path to mount and its root-relative form. */
export interface ResolvedSource {
  readonly path: string;
  /** Root-relative, symlink-free ("" for the root itself). */
  readonly rel: string;
  readonly isDir: boolean;
}

/**
 * Resolves a mount's `source` inside `root` (a stage's merged view, the build context, a
 * download's directory) with the one tree resolver: symlinks are followed as the step would see
 * them, `..` and absolute links stay clamped at the root. A source that does not exist inside
 * its root is an error at the mount's line (as in BuildKit), never a path joined onto the host.
 *
 * Why resolving once is enough: the trees resolved here are either private to this step (a
 * stage's overlay view made for this mount, into which nothing runs before it is bound) or the
 * caller's own context, so nothing can swap a component for a symlink between the resolution
 * and the bind. As a second line the result is checked with the kernel's own resolution
 * (realpath): it must be itself (no symlink left in it) and lie under the root.
 */
export function resolveMountSource(root: string, source: string, what: string, loc: SourceLocation | undefined): ResolvedSource {
  const realRoot = realpathSync(root);
  const rel = resolveTreePath(hostTree(realRoot), source, { loopCode: "STRATA_RUN_MOUNT_SOURCE" });
  const path = rel === "" ? realRoot : join(realRoot, rel);
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    throw new StrataError("STRATA_RUN_MOUNT_SOURCE", `${what} source ${JSON.stringify(source)} does not exist${rel !== normalized(source) ? ` (it resolves to /${rel})` : ""}`, {
      ...(loc ? { locations: [loc] } : {}),
      hint: "the source is a path inside the mounted stage, image or context; symlinks in it are followed inside that tree, never on the host",
    });
  }
  const real = realpathSync(path);
  if (real !== path || !(real === realRoot || real.startsWith(`${realRoot}/`))) {
    throw new StrataError("STRATA_RUN_MOUNT_SOURCE", `${what} source ${JSON.stringify(source)} changed while it was resolved`, { ...(loc ? { locations: [loc] } : {}) });
  }
  return { path, rel, isDir: st.isDirectory() };
}

function normalized(p: string): string {
  const out: string[] = [];
  for (const s of p.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") out.pop();
    else out.push(s);
  }
  return out.join("/");
}
