import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { digestHex, type Digest } from "@strata/graph";
import { FsBlobStore } from "@strata/oci";
import { readJsonOrUndefined, writeJsonAtomic } from "./atomic.ts";

/** Bumped when the layout or the meaning of cache records changes; old stores are then ignored, not misread. */
export const STORE_VERSION = 1;

/**
 * The content store under `$STRATA_HOME` (default `~/.cache/strata`):
 *
 *   blobs/sha256/<hex>         every blob: uncompressed layers (named by diffID), configs, manifests, compressed layers
 *   cache/<kk>/<key>.json      cache index: cache key → what the op produced (layers, files)
 *   toc/<kk>/<diffid>.json     a layer's table of contents (path → metadata and data offset)
 *   snapshots/<diffid>/        a layer extracted for RUN steps (overlay lower directory)
 *   refs/                      local image names → manifest digests
 *   explain/                   what the last build of each target used, for --explain
 *   tmp/                       work directories; anything here may be deleted when no build runs
 *
 * Every write is temp file + rename, so a build killed at any moment leaves the store usable,
 * and concurrent builds share it: the same key always maps to the same content.
 */
export class Store {
  readonly root: string;
  readonly blobs: FsBlobStore;

  constructor(root: string) {
    this.root = join(root, `v${STORE_VERSION}`);
    this.blobs = new FsBlobStore(join(this.root, "blobs"));
    // Private to its owner: layers extracted here keep their setuid files and device nodes, which
    // another user must not reach through the store (0700 on the version root closes every path in).
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    try {
      chmodSync(this.root, 0o700);
    } catch {
      // Not ours (a store shared read-only): its owner set its mode.
    }
  }

  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  private keyPath(dir: string, key: Digest | string, ext = ".json"): string {
    const hex = key.startsWith("sha256:") ? digestHex(key as Digest) : key;
    return join(this.root, dir, hex.slice(0, 2), `${hex}${ext}`);
  }

  getCache<T>(key: Digest): T | undefined {
    return readJsonOrUndefined<T>(this.keyPath("cache", key));
  }

  putCache(key: Digest, record: unknown): void {
    writeJsonAtomic(this.keyPath("cache", key), record);
  }

  tocPath(diffId: Digest): string {
    return this.keyPath("toc", diffId);
  }

  snapshotPath(diffId: Digest): string {
    return join(this.root, "snapshots", digestHex(diffId));
  }

  refPath(name: string): string {
    return join(this.root, "refs", `${encodeURIComponent(name)}.json`);
  }

  /** A fresh private work directory under tmp/. */
  tmpDir(prefix: string): string {
    const dir = join(this.root, "tmp", `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** Bytes used per area (for `strata cache du`). */
  usage(): Record<string, { files: number; bytes: number }> {
    const out: Record<string, { files: number; bytes: number }> = {};
    for (const area of ["blobs", "cache", "toc", "snapshots", "refs", "explain", "tmp", "mounts"]) {
      const dir = join(this.root, area);
      out[area] = existsSync(dir) ? du(dir) : { files: 0, bytes: 0 };
    }
    return out;
  }

  /** Removes everything but named images' content (for `strata cache prune --all`, everything). */
  removeArea(area: string): void {
    rmSync(join(this.root, area), { recursive: true, force: true });
  }
}

function du(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        files++;
        try {
          bytes += lstatSync(p).size;
        } catch {
          /* vanished while counting */
        }
      }
    }
  };
  walk(dir);
  return { files, bytes };
}
