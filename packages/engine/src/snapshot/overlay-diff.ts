import { resolve } from "node:path";
import type { LayerEntry } from "@strata/oci";
import { ChangeSet, isWhiteoutStat } from "./change-set.ts";
import { dirChanged, LowerView } from "./lower-view.ts";
import { walkTree, type WalkEntry } from "./walk.ts";
import { OPAQUE_XATTR, readXattrs } from "./xattrs.ts";

/**
 * Turns an overlayfs upper directory into layer entries: whiteouts (0/0 character devices)
 * become `whiteout`, directories with `trusted.overlay.opaque=y` become the directory plus
 * `opaque`, everything else is added as it is now. A directory that overlayfs merely copied up
 * (its metadata equal to the lower one's) is left out unless something below it changed; then
 * it comes in as a parent. One `getfattr -R` reads all extended attributes of the upper tree.
 * Works while mounted or after unmounting.
 */
export async function diffUpperDir(upperDir: string, lowerDirs: readonly string[]): Promise<LayerEntry[]> {
  const upper = resolve(upperDir);
  const xattrs = await readXattrs({ tree: upper });
  const changes = new ChangeSet();
  const dirs: WalkEntry[] = [];
  walkTree(upper, (e) => {
    if (isWhiteoutStat(e.st)) {
      changes.whiteout(e.rel);
    } else if (e.st.isDirectory()) {
      const opaque = new TextDecoder().decode(xattrs.get(e.abs)?.get(OPAQUE_XATTR) ?? new Uint8Array()) === "y";
      if (opaque) changes.add(e.rel, e.abs, e.st, true);
      else dirs.push(e);
    } else {
      changes.add(e.rel, e.abs, e.st);
    }
  });
  const view = new LowerView(lowerDirs.map((d) => resolve(d)));
  for (const d of dirs) {
    const before = view.lookup(d.rel);
    if (!before?.isDirectory() || dirChanged(d.st, before)) changes.add(d.rel, d.abs, d.st);
  }
  return changes.entries(upper, async () => xattrs);
}
