import type { Digest } from "@strata/graph";
import type { OciImage } from "@strata/oci";
import { LayerStore } from "../layers/layer-store.ts";
import type { TocNode, TocType } from "../layers/toc.ts";
import type { Store } from "../store/store.ts";

/** One path a layer adds, changes or removes. */
export interface PathChange {
  readonly path: string;
  readonly kind: "added" | "changed" | "removed";
  readonly type: TocType;
  /** File bytes this layer stores for the path (0 for a removal and for non-files). */
  readonly size: number;
  /** For a removal: the bytes of the lower files it hides; for a change: of the file it replaces. */
  readonly hiddenBytes?: number;
}

/** What one layer does to the file system below it. */
export interface LayerChanges {
  readonly index: number;
  readonly diffId: Digest;
  /** Uncompressed tar bytes. */
  readonly size: number;
  readonly added: number;
  readonly changed: number;
  readonly removed: number;
  /** Bytes of this layer's files that a later layer overwrites or deletes: stored, never visible. */
  readonly wastedBytes: number;
  readonly changes: readonly PathChange[];
}

/** `strata inspect --layers` (what `dive` shows): per layer changes, and the space lost to later ones. */
export interface LayerReport {
  readonly layers: readonly LayerChanges[];
  /** Sum of the layers' file bytes. */
  readonly fileBytes: number;
  readonly wastedBytes: number;
  /** 1 − wasted / file bytes: 1 when no layer stores a byte the image cannot show. */
  readonly efficiency: number;
  /** The largest files whose bytes are wasted: which layer stored them, and which hid them. */
  readonly wasted: readonly { readonly path: string; readonly size: number; readonly layer: number; readonly hiddenBy: number }[];
}

interface Visible {
  readonly node: TocNode;
  readonly layer: number;
}

/**
 * Replays the layers' tables of contents bottom to top, as overlayfs stacks them: a whiteout
 * removes a path and everything below it, an opaque directory hides what lower layers have in
 * it, and an entry for a path that is already visible replaces it (a directory over a directory
 * is only a change when its mode or owner differ: layers repeat the parents of what they add).
 * The bytes of a file that is replaced or removed later are wasted: the image carries them but
 * no container can see them.
 */
export async function analyzeLayers(store: Store, image: OciImage): Promise<LayerReport> {
  const layerStore = new LayerStore(store, 0);
  const view = new Map<string, Visible>();
  const wastedPer = image.layers.map(() => 0);
  const wasted: { path: string; size: number; layer: number; hiddenBy: number }[] = [];
  const out: LayerChanges[] = [];
  let fileBytes = 0;
  const hide = (path: string, v: Visible, by: number) => {
    view.delete(path);
    if (v.node.type !== "file" || v.node.size === 0) return 0;
    wastedPer[v.layer]! += v.node.size;
    wasted.push({ path, size: v.node.size, layer: v.layer, hiddenBy: by });
    return v.node.size;
  };
  for (const [index, l] of image.layers.entries()) {
    if (!(await store.blobs.has(l.diffId))) await layerStore.import(await l.open(), l.diffId);
    const toc = await layerStore.toc(l.diffId);
    const changes: PathChange[] = [];
    // Removals first: they apply to the layers below, not to this layer's own entries.
    const removedRoots = new Set(toc.whiteouts.map(clean));
    const opaqueRoots = new Set(toc.opaque.map(clean));
    if (removedRoots.size || opaqueRoots.size) {
      const hiddenBy = new Map<string, number>();
      for (const [path, v] of [...view]) {
        const root = coveringRoot(path, removedRoots, opaqueRoots);
        if (root === undefined) continue;
        // A whiteout removes its path; an opaque directory removes each of its lower children.
        const top = removedRoots.has(root) ? root : `${root === "" ? "" : `${root}/`}${path.slice(root === "" ? 0 : root.length + 1).split("/")[0]}`;
        const bytes = hide(path, v, index);
        hiddenBy.set(top, (hiddenBy.get(top) ?? 0) + bytes);
        if (path === top) changes.push({ path, kind: "removed", type: v.node.type, size: 0, hiddenBytes: 0 });
      }
      for (const c of changes) (c as { hiddenBytes: number }).hiddenBytes = hiddenBy.get(c.path) ?? 0;
    }
    for (const [rawPath, node] of toc.entries) {
      const path = clean(rawPath);
      if (path === "") continue;
      if (node.type === "file") fileBytes += node.size;
      const before = view.get(path);
      if (!before) {
        changes.push({ path, kind: "added", type: node.type, size: node.size });
      } else if (before.node.type === "directory" && node.type === "directory") {
        if (before.node.mode !== node.mode || before.node.uid !== node.uid || before.node.gid !== node.gid) {
          changes.push({ path, kind: "changed", type: node.type, size: 0 });
        }
      } else {
        let hidden = hide(path, before, index);
        // A directory replaced by a non-directory takes its subtree with it.
        if (before.node.type === "directory") for (const [p, v] of [...view]) if (p.startsWith(`${path}/`)) hidden += hide(p, v, index);
        changes.push({ path, kind: "changed", type: node.type, size: node.size, hiddenBytes: hidden });
      }
      view.set(path, { node, layer: index });
    }
    changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    out.push({
      index,
      diffId: l.diffId,
      size: (await store.blobs.size(l.diffId)) ?? 0,
      added: changes.filter((c) => c.kind === "added").length,
      changed: changes.filter((c) => c.kind === "changed").length,
      removed: changes.filter((c) => c.kind === "removed").length,
      wastedBytes: 0,
      changes,
    });
  }
  const layers = out.map((l) => ({ ...l, wastedBytes: wastedPer[l.index]! }));
  const total = wastedPer.reduce((a, b) => a + b, 0);
  return {
    layers,
    fileBytes,
    wastedBytes: total,
    efficiency: fileBytes === 0 ? 1 : 1 - total / fileBytes,
    wasted: wasted.sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1)),
  };
}

/** The whiteout or opaque directory that hides `path`, if any (a path under an opaque dir, not the dir itself). */
function coveringRoot(path: string, removed: ReadonlySet<string>, opaque: ReadonlySet<string>): string | undefined {
  if (removed.has(path)) return path;
  let i = path.lastIndexOf("/");
  while (i > 0) {
    const parent = path.slice(0, i);
    if (removed.has(parent) || opaque.has(parent)) return parent;
    i = parent.lastIndexOf("/");
  }
  return opaque.has("") ? "" : undefined;
}

function clean(p: string): string {
  return p.replace(/^\.?\/+/, "").replace(/\/+$/, "");
}
