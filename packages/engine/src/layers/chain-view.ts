import { createReadStream, openSync, readSync, closeSync } from "node:fs";
import type { Digest } from "@strata/graph";
import type { EntryContent, LayerEntry } from "@strata/oci";
import type { BaseFs, BaseNode } from "../copy/base-fs.ts";
import type { SourceNode, SourceTree } from "../copy/source-tree.ts";
import type { LayerRef } from "../solver/types.ts";
import type { LayerStore } from "./layer-store.ts";
import type { TocNode } from "./toc.ts";

interface Placed {
  readonly node: TocNode;
  readonly diffId: Digest;
  /** For a hard link: the path it links to in the same layer. */
  readonly path: string;
}

const ROOT_NODE: TocNode = { type: "directory", mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0, offset: 0 };

/**
 * The filesystem a chain of layers makes (whiteouts and opaque directories applied), read
 * straight from the layers' tables of contents and tars: nothing is extracted. It is the
 * destination view a COPY resolves paths and owners against, and the source tree of a
 * COPY --from another image.
 */
export class ChainView {
  private readonly nodes = new Map<string, Placed>([["", { node: ROOT_NODE, diffId: "" as Digest, path: "" }]]);
  private readonly kids = new Map<string, Set<string>>([["", new Set()]]);

  private constructor(private readonly layers: LayerStore) {}

  static async open(layers: LayerStore, chain: readonly LayerRef[]): Promise<ChainView> {
    const view = new ChainView(layers);
    const tocs = await Promise.all(chain.map((l) => layers.toc(l.diffId)));
    tocs.forEach((toc, i) => {
      const diffId = chain[i]!.diffId;
      for (const dir of toc.opaque) for (const name of [...(view.kids.get(dir) ?? [])]) view.remove(dir ? `${dir}/${name}` : name);
      for (const p of toc.whiteouts) view.remove(p);
      for (const [path, node] of toc.entries) view.put(path, { node, diffId, path });
    });
    return view;
  }

  private put(path: string, placed: Placed): void {
    const prev = this.nodes.get(path);
    if (prev && prev.node.type === "directory" && placed.node.type !== "directory") this.removeChildren(path);
    this.nodes.set(path, placed);
    if (placed.node.type === "directory" && !this.kids.has(path)) this.kids.set(path, new Set());
    const slash = path.lastIndexOf("/");
    const parent = slash >= 0 ? path.slice(0, slash) : "";
    if (!this.nodes.has(parent)) this.put(parent, { node: { ...ROOT_NODE }, diffId: placed.diffId, path: parent });
    this.kids.get(parent)?.add(path.slice(slash + 1));
  }

  private remove(path: string): void {
    if (!this.nodes.has(path)) return;
    this.removeChildren(path);
    this.nodes.delete(path);
    this.kids.delete(path);
    const slash = path.lastIndexOf("/");
    this.kids.get(slash >= 0 ? path.slice(0, slash) : "")?.delete(path.slice(slash + 1));
  }

  private removeChildren(dir: string): void {
    for (const name of [...(this.kids.get(dir) ?? [])]) this.remove(dir ? `${dir}/${name}` : name);
  }

  /** A hard link resolved to the file it links to. */
  private resolve(path: string): Placed | undefined {
    let p = this.nodes.get(path);
    for (let hops = 0; p && p.node.type === "hardlink" && hops < 8; hops++) p = this.nodes.get(p.node.linkname ?? "");
    return p;
  }

  has(path: string): boolean {
    return this.nodes.has(path);
  }

  paths(): IterableIterator<string> {
    return this.nodes.keys();
  }

  /**
   * Every path of the merged filesystem (whiteouts and opaque directories applied) as layer
   * entries whose contents are byte ranges of the layer tars: what `--output type=tar|local`
   * writes. A hard link stays a link when its target is still the same file; when a later
   * layer replaced or deleted the target, the link's own content (from its layer) is written.
   */
  async flatten(): Promise<LayerEntry[]> {
    const out: LayerEntry[] = [];
    for (const [path, placed] of this.nodes) {
      if (path === "") continue;
      let p = placed;
      let n = p.node;
      if (n.type === "hardlink") {
        const target = this.nodes.get(n.linkname ?? "");
        if (target && target.diffId === p.diffId && target.path === n.linkname) {
          out.push({ type: "hardlink", path, linkname: n.linkname!, mode: n.mode, uid: n.uid, gid: n.gid, mtime: n.mtime });
          continue;
        }
        const own = (await this.layers.toc(p.diffId)).entries.get(n.linkname ?? "");
        if (!own || own.type === "hardlink") continue;
        p = { node: own, diffId: p.diffId, path: n.linkname! };
        n = own;
      }
      const base = { path, mode: n.mode & 0o7777, uid: n.uid, gid: n.gid, mtime: n.mtime };
      switch (n.type) {
        case "file":
          out.push({ ...base, type: "file", size: n.size, content: { path: this.layers.blobPath(p.diffId), offset: n.offset } });
          break;
        case "directory":
          out.push({ ...base, type: "directory" });
          break;
        case "symlink":
          out.push({ ...base, type: "symlink", linkname: n.linkname ?? "" });
          break;
        case "fifo":
          out.push({ ...base, type: "fifo" });
          break;
        case "char-device":
        case "block-device":
          out.push({ ...base, type: n.type, devmajor: n.devmajor ?? 0, devminor: n.devminor ?? 0 });
          break;
      }
    }
    return out;
  }

  /** The destination view (BaseFs) a COPY resolves against. */
  asBase(): BaseFs {
    return {
      lstat: (path): BaseNode | undefined => {
        const p = this.resolve(path);
        if (!p) return undefined;
        const n = p.node;
        const type = n.type === "file" || n.type === "directory" || n.type === "symlink" ? n.type : "other";
        return { type, mode: n.mode, uid: n.uid, gid: n.gid, mtime: n.mtime, ...(n.linkname !== undefined && type === "symlink" ? { linkname: n.linkname } : {}) };
      },
      readFile: async (path) => {
        const p = this.resolve(path);
        if (p?.node.type !== "file") return undefined;
        return this.readBytes(p);
      },
    };
  }

  /** The source tree of a COPY --from this filesystem. */
  asSource(): SourceTree {
    return {
      lstat: (path): SourceNode | undefined => {
        const raw = this.nodes.get(path);
        const p = this.resolve(path);
        if (!p || !raw) return undefined;
        const n = p.node;
        if (n.type === "hardlink") return undefined;
        return {
          type: n.type,
          mode: n.mode,
          uid: n.uid,
          gid: n.gid,
          mtime: n.mtime,
          size: n.size,
          ...(n.linkname !== undefined && n.type === "symlink" ? { linkname: n.linkname } : {}),
          ...(raw.node.type === "hardlink" || this.isLinkTarget(path) ? { linkKey: `${p.diffId}:${p.path}` } : {}),
          ...(n.devmajor !== undefined ? { devmajor: n.devmajor, devminor: n.devminor ?? 0 } : {}),
        };
      },
      readdir: (path) => [...(this.kids.get(path) ?? [])],
      content: (path): EntryContent => {
        const p = this.resolve(path);
        if (!p) throw new Error(`no file ${path}`);
        return { path: this.layers.blobPath(p.diffId), offset: p.node.offset };
      },
      read: (path) => {
        const p = this.resolve(path);
        if (!p || p.node.size === 0) return (async function* () {})();
        return createReadStream(this.layers.blobPath(p.diffId), { start: p.node.offset, end: p.node.offset + p.node.size - 1 });
      },
    };
  }

  private linkTargets: Set<string> | undefined;
  private isLinkTarget(path: string): boolean {
    if (!this.linkTargets) {
      this.linkTargets = new Set();
      for (const p of this.nodes.values()) if (p.node.type === "hardlink" && p.node.linkname) this.linkTargets.add(p.node.linkname);
    }
    return this.linkTargets.has(path);
  }

  private readBytes(p: Placed): Uint8Array {
    const buf = Buffer.alloc(p.node.size);
    const fd = openSync(this.layers.blobPath(p.diffId), "r");
    try {
      let at = 0;
      while (at < buf.length) {
        const n = readSync(fd, buf, at, buf.length - at, p.node.offset + at);
        if (n === 0) break;
        at += n;
      }
    } finally {
      closeSync(fd);
    }
    return buf;
  }
}
