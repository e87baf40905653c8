import { lstatSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path/posix";
import { StrataError, type ErrorCode } from "@strata/graph";

/** What the resolver needs to know about one path inside the tree. */
export interface TreeNode {
  readonly type: string;
  /** The link's target, for `type: "symlink"`. */
  readonly linkname?: string;
}

/** Looks up a root-relative path (no leading `/`) in the tree; undefined when it does not exist. */
export type TreeLookup = (rel: string) => TreeNode | undefined;

const MAX_LINKS = 255;

/**
 * THE resolver for every path that names something inside a file system tree (a layer chain,
 * an extracted rootfs, the build context, a cache seed): COPY/ADD sources and destinations,
 * bind and cache mount sources, mount targets (secret, ssh, cache, tmpfs), the working
 * directory. Symlinks are followed the way a process chrooted at the root would see them
 * (containerd's `fs.RootPath`, runc's securejoin): an absolute link target restarts at the
 * root, `..` never climbs above it. So the result always lies inside the tree, whatever its
 * links say. Components that do not exist are kept as written (a destination may not exist
 * yet); with `followLast` false a link in the last component is not followed.
 *
 * Returns a root-relative path without leading `/` (`""` for the root).
 */
export function resolveTreePath(lookup: TreeLookup, path: string, opts: { followLast?: boolean; loopCode?: ErrorCode } = {}): string {
  const followLast = opts.followLast ?? true;
  let pending = split(path);
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === "..") {
      done.pop();
      continue;
    }
    if (pending.length === 0 && !followLast) {
      done.push(part);
      break;
    }
    const node = lookup([...done, part].join("/"));
    if (node?.type !== "symlink") {
      done.push(part);
      if (!node) {
        // Nothing below a missing component can be a link: keep the rest as written.
        for (const rest of pending) {
          if (rest === "..") done.pop();
          else done.push(rest);
        }
        break;
      }
      continue;
    }
    if (++links > MAX_LINKS) {
      throw new StrataError(opts.loopCode ?? "STRATA_PATH_SYMLINK_LOOP", `too many levels of symbolic links resolving /${split(path).join("/")}`);
    }
    const target = node.linkname ?? "";
    if (target.startsWith("/")) done.length = 0;
    pending = [...split(target), ...pending];
  }
  return done.join("/");
}

/**
 * A {@link TreeLookup} over a directory on the host (the tree's root), by lstat: nothing outside
 * `root` is ever looked at, because the resolver only asks for paths it has already confined.
 */
export function hostTree(root: string): TreeLookup {
  return (rel) => {
    const p = join(root, rel);
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
    if (st.isSymbolicLink()) return { type: "symlink", linkname: readlinkSync(p) };
    return { type: st.isDirectory() ? "directory" : "file" };
  };
}

export function isNotFound(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

function split(p: string): string[] {
  return p.split("/").filter((s) => s !== "" && s !== ".");
}
