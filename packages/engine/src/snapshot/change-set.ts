import type { BigIntStats } from "node:fs";
import { lstat, readlink } from "node:fs/promises";
import { join } from "node:path/posix";
import type { LayerEntry } from "@strata/oci";
import type { XattrMap } from "./xattrs.ts";

interface Added {
  readonly kind: "add";
  readonly abs: string;
  readonly st: BigIntStats;
  readonly opaque: boolean;
}
interface Removed {
  readonly kind: "whiteout";
}

/**
 * The changes of one step, collected path by path, then turned into sorted layer entries. Like
 * containerd's change writer (what BuildKit's layers come from), every parent directory of a
 * change is included with its current metadata, so the parents of the paths a step touched
 * are in its layer, and the same command gives the same entries whichever snapshotter ran it.
 */
export class ChangeSet {
  readonly #items = new Map<string, Added | Removed>();

  /** `rel`: root-relative path without leading slash; `st`: lstat of `abs` (the current state). */
  add(rel: string, abs: string, st: BigIntStats, opaque = false): void {
    this.#items.set(rel, { kind: "add", abs, st, opaque });
  }

  whiteout(rel: string): void {
    this.#items.set(rel, { kind: "whiteout" });
  }

  has(rel: string): boolean {
    return this.#items.has(rel);
  }

  get size(): number {
    return this.#items.size;
  }

  /**
   * Adds the missing parent directories (stat'ed under `root`), reads the extended attributes
   * of everything added, and returns the entries in byte order of their paths (a directory
   * before its opaque marker and its children; a hard link after its target).
   */
  async entries(root: string, readXattrsOf: (absPaths: readonly string[]) => Promise<XattrMap>): Promise<LayerEntry[]> {
    for (const rel of [...this.#items.keys()]) {
      const parts = rel.split("/");
      for (let i = parts.length - 1; i >= 1; i--) {
        const parent = parts.slice(0, i).join("/");
        if (this.#items.has(parent)) break;
        const abs = join(root, parent);
        this.#items.set(parent, { kind: "add", abs, st: await lstat(abs, { bigint: true }), opaque: false });
      }
    }
    const rels = [...this.#items.keys()].sort(compareBytes);
    const added = rels.flatMap((r) => {
      const it = this.#items.get(r)!;
      return it.kind === "add" && !it.st.isSocket() ? [it.abs] : [];
    });
    const xattrs = added.length > 0 ? await readXattrsOf(added) : new Map();
    const firstLink = new Map<string, string>();
    const out: LayerEntry[] = [];
    for (const rel of rels) {
      const it = this.#items.get(rel)!;
      if (it.kind === "whiteout") {
        out.push({ type: "whiteout", path: rel });
        continue;
      }
      const st = it.st;
      const base = {
        path: rel,
        mode: Number(st.mode & 0o7777n),
        uid: Number(st.uid),
        gid: Number(st.gid),
        mtime: Number(st.mtimeNs / 1_000_000_000n),
        ...layerXattrs(xattrs.get(it.abs)),
      };
      if (st.isDirectory()) {
        out.push({ ...base, type: "directory" });
        if (it.opaque) out.push({ type: "opaque", path: rel });
      } else if (st.isFile()) {
        if (st.nlink > 1n) {
          const key = `${st.dev}:${st.ino}`;
          const target = firstLink.get(key);
          if (target !== undefined) {
            out.push({ ...base, type: "hardlink", linkname: target });
            continue;
          }
          firstLink.set(key, rel);
        }
        out.push({ ...base, type: "file", size: Number(st.size), content: { path: it.abs } });
      } else if (st.isSymbolicLink()) {
        out.push({ ...base, type: "symlink", linkname: await readlink(it.abs) });
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        out.push({
          ...base,
          type: st.isCharacterDevice() ? "char-device" : "block-device",
          devmajor: devMajor(st.rdev),
          devminor: devMinor(st.rdev),
        });
      } else if (st.isFIFO()) {
        out.push({ ...base, type: "fifo" });
      }
      // Sockets cannot be stored in a layer (Docker skips them too).
    }
    return out;
  }
}

/** Attributes that describe the file and travel with it; overlayfs' own and LSM labels do not. */
function layerXattrs(attrs: ReadonlyMap<string, Uint8Array> | undefined): { xattrs?: Readonly<Record<string, Uint8Array>> } {
  if (!attrs) return {};
  const kept = [...attrs].filter(([name]) => !isPrivateXattr(name)).sort(([a], [b]) => compareBytes(a, b));
  return kept.length > 0 ? { xattrs: Object.fromEntries(kept) } : {};
}

export function isPrivateXattr(name: string): boolean {
  return (
    name.startsWith("trusted.overlay.") ||
    name.startsWith("user.overlay.") ||
    name === "security.selinux" ||
    name === "security.ima" ||
    name === "security.evm"
  );
}

export function isWhiteoutStat(st: BigIntStats): boolean {
  return st.isCharacterDevice() && st.rdev === 0n;
}

export function devMajor(rdev: bigint): number {
  return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n));
}

export function devMinor(rdev: bigint): number {
  return Number((rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n));
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
