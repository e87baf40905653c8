import { resolveTreePath, type TreeNode } from "../sandbox-util/tree-path.ts";

/**
 * COPY/ADD's view of {@link resolveTreePath} (BuildKit resolves sources and destinations with
 * containerd's `fs.RootPath`, the same rule): over a layer chain's table of contents, with
 * COPY's own error code. With `followLast` false the last component is left alone.
 * Returns a root-relative path without leading `/` (`""` for the root).
 */
export function resolveInRoot(lstat: (path: string) => TreeNode | undefined, path: string, followLast = true): string {
  return resolveTreePath(lstat, path, { followLast, loopCode: "STRATA_COPY_SYMLINK_LOOP" });
}
