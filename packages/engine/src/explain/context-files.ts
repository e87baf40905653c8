import type { ContextSnapshot } from "../context/snapshot.ts";
import { resolveSources } from "../copy/sources.ts";
import { contextSourceTree } from "../copy/source-tree.ts";

/**
 * For --explain: the content digest of every context file a copy reads (path → digest), so
 * the next build can name the files that changed. Digests come from the stat cache; only
 * changed files are read. Only computed when --explain is on.
 */
export function contextFiles(snapshot: ContextSnapshot, src: readonly string[]): Record<string, string> {
  const tree = contextSourceTree(snapshot);
  const roots = new Set<string>();
  for (const arg of src) {
    try {
      for (const r of resolveSources(tree, arg)) roots.add(r.followed);
    } catch {
      /* the copy itself reports what is wrong */
    }
  }
  const out: Record<string, string> = {};
  for (const e of snapshot.entries) {
    if (e.type !== "file") continue;
    for (const root of roots) {
      if (root === "" || e.path === root || e.path.startsWith(`${root}/`)) {
        out[e.path] = snapshot.digestOfSync(e);
        break;
      }
    }
  }
  return out;
}
