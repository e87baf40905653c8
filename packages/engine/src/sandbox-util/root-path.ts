import { join } from "node:path/posix";
import { hostTree, isNotFound, resolveTreePath } from "./tree-path.ts";

export { isNotFound };

/**
 * Resolves a container path to a host path inside `root` with {@link resolveTreePath}: symlinks
 * are followed as the container would see them, the result never leaves `root`. Missing
 * components are kept as written, so the result also names paths that do not exist yet.
 *
 * Only safe while nothing inside the root runs: a process there could swap a directory for
 * a symlink between this check and the use of the path.
 */
export async function resolveInRoot(root: string, containerPath: string): Promise<string> {
  return join(root, await resolveRelative(root, containerPath));
}

/** Like {@link resolveInRoot} but returns the resolved root-relative path ("" for the root). */
export async function resolveRelative(root: string, containerPath: string): Promise<string> {
  return resolveTreePath(hostTree(root), containerPath, { loopCode: "STRATA_RUN_SYMLINK_LOOP" });
}
