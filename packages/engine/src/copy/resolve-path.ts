import { StrataError } from "@strata/graph";

interface LinkInfo {
  readonly type: string;
  readonly linkname?: string;
}

const MAX_LINKS = 255;

/**
 * Resolves symlinks in a root-relative path the way containerd's `fs.RootPath` does, which
 * BuildKit uses for both COPY sources and destinations: absolute link targets restart at the
 * root, `..` never climbs above it, components that do not exist are kept as written. With
 * `followLast` false the last component is left alone (a link there is not followed).
 * Returns a root-relative path without leading `/` (`""` for the root).
 */
export function resolveInRoot(lstat: (path: string) => LinkInfo | undefined, path: string, followLast = true): string {
  let pending = split(path);
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === "..") {
      done.pop();
      continue;
    }
    const candidate = [...done, part].join("/");
    if (pending.length === 0 && !followLast) {
      done.push(part);
      break;
    }
    const node = lstat(candidate);
    if (!node || node.type !== "symlink") {
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
      throw new StrataError("STRATA_COPY_SYMLINK_LOOP", `too many levels of symbolic links resolving /${path}`);
    }
    const target = node.linkname ?? "";
    if (target.startsWith("/")) done.length = 0;
    pending = [...split(target), ...pending];
  }
  return done.join("/");
}

function split(p: string): string[] {
  return p.split("/").filter((s) => s !== "" && s !== ".");
}
