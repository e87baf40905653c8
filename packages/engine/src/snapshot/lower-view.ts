import type { BigIntStats } from "node:fs";
import { join } from "node:path/posix";
import { isWhiteoutStat } from "./change-set.ts";
import { lstatOrUndefined } from "./walk.ts";

/**
 * What a path is in the union of overlay-format lower directories (bottom→top), found with
 * lstat only: the topmost lower that has the path wins; a whiteout, or a non-directory at a
 * parent path in a higher lower, hides the ones below.
 *
 * Opaque directories are not consulted (reading that xattr costs a process): the answer is used
 * only to decide whether a directory the step left in its upper directory differs from the
 * lower one, and a directory hidden by an opaque one was necessarily recreated by the step,
 * with a new mtime, so it is reported either way.
 */
export class LowerView {
  readonly #topFirst: readonly string[];

  constructor(lowerDirs: readonly string[]) {
    this.#topFirst = [...lowerDirs].reverse();
  }

  lookup(rel: string): BigIntStats | undefined {
    const parts = rel.split("/");
    for (const lower of this.#topFirst) {
      const st = lstatOrUndefined(join(lower, rel));
      if (st) return isWhiteoutStat(st) ? undefined : st;
      for (let i = 1; i < parts.length; i++) {
        const anc = lstatOrUndefined(join(lower, ...parts.slice(0, i)));
        if (!anc) break;
        if (!anc.isDirectory()) return undefined;
      }
    }
    return undefined;
  }
}

/** Whether a directory's own metadata differs (mtime at the one-second resolution layers keep). */
export function dirChanged(now: BigIntStats, before: BigIntStats): boolean {
  return (
    (now.mode & 0o7777n) !== (before.mode & 0o7777n) ||
    now.uid !== before.uid ||
    now.gid !== before.gid ||
    now.mtimeNs / 1_000_000_000n !== before.mtimeNs / 1_000_000_000n
  );
}
