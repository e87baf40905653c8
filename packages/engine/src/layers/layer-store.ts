import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { digestHex, type Digest } from "@strata/graph";
import { decompressed, extractLayer, writeLayer, type LayerEntry } from "@strata/oci";
import type { Store } from "../store/store.ts";
import { readJsonOrUndefined, writeJsonAtomic } from "../store/atomic.ts";
import type { LayerRef } from "../solver/types.ts";
import { readToc, tocFromJson, tocToJson, type Toc } from "./toc.ts";

/**
 * Layers in the store, always kept uncompressed under their diffID (a local build never pays
 * for gzip; exports and pushes compress once and cache the result). Each layer has a table
 * of contents (read from its tar headers once) and, when a RUN step needs it as an overlay
 * lower directory, an extracted snapshot.
 */
export class LayerStore {
  private readonly tocs = new Map<Digest, Promise<Toc>>();
  private readonly snapshots = new Map<Digest, Promise<string>>();

  /** Fetches a layer the store lacks (from a shared cache, verified); set by the solver for --cache-from. */
  fetchMissing: ((diffId: Digest) => Promise<void>) | undefined;

  constructor(
    readonly store: Store,
    readonly sourceDateEpoch: number,
  ) {}

  /**
   * Makes sure a layer's blob is in the store before it is read: a layer a shared cache named
   * is fetched now, lazily (a step that is itself a hit never reads its input's layers).
   */
  async ensure(diffId: Digest): Promise<void> {
    if (this.fetchMissing && !(await this.store.blobs.has(diffId))) await this.fetchMissing(diffId);
  }

  blobPath(diffId: Digest): string {
    return this.store.blobs.pathOf(diffId);
  }

  async has(layer: LayerRef): Promise<boolean> {
    return (await this.store.blobs.size(layer.diffId)) === layer.size;
  }

  /** Writes a layer from entries; undefined when there is nothing to write (an empty change). */
  async write(entries: readonly LayerEntry[]): Promise<LayerRef | undefined> {
    if (!entries.length) return undefined;
    const r = await writeLayer(entries, { to: { store: this.store.blobs }, sourceDateEpoch: this.sourceDateEpoch });
    return { diffId: r.diffId, size: r.size };
  }

  /** Stores a layer blob (gzip, zstd or plain) uncompressed, verified against its diffID. */
  async import(blob: Readable, diffId: Digest): Promise<LayerRef> {
    const have = await this.store.blobs.size(diffId);
    if (have !== undefined) {
      blob.destroy();
      return { diffId, size: have };
    }
    const { Readable: R } = await import("node:stream");
    const r = await this.store.blobs.put(R.from(decompressed(blob)), { digest: diffId });
    return { diffId, size: r.size };
  }

  toc(diffId: Digest): Promise<Toc> {
    let p = this.tocs.get(diffId);
    if (!p) {
      p = this.loadToc(diffId);
      this.tocs.set(diffId, p);
    }
    return p;
  }

  private async loadToc(diffId: Digest): Promise<Toc> {
    await this.ensure(diffId);
    const path = this.store.tocPath(diffId);
    const cached = readJsonOrUndefined<unknown>(path);
    if (cached) {
      try {
        return tocFromJson(cached);
      } catch {
        /* rebuilt below */
      }
    }
    const toc = await readToc(this.blobPath(diffId));
    writeJsonAtomic(path, tocToJson(toc));
    return toc;
  }

  /**
   * The layer extracted as an overlayfs lower directory (whiteouts as 0/0 devices, opaque
   * directories marked), made once: extracted into a temp directory and renamed into place,
   * so a killed build never leaves a half snapshot that looks complete.
   */
  snapshot(diffId: Digest): Promise<string> {
    let p = this.snapshots.get(diffId);
    if (!p) {
      p = this.makeSnapshot(diffId);
      this.snapshots.set(diffId, p);
    }
    return p;
  }

  private async makeSnapshot(diffId: Digest): Promise<string> {
    const dir = this.store.snapshotPath(diffId);
    if (existsSync(dir)) return dir;
    await this.ensure(diffId);
    const tmp = join(this.store.path("tmp"), `snap-${digestHex(diffId).slice(0, 16)}-${process.pid}-${Date.now().toString(36)}`);
    mkdirSync(tmp, { recursive: true });
    try {
      const { createReadStream } = await import("node:fs");
      await extractLayer(createReadStream(this.blobPath(diffId), { highWaterMark: 1 << 20 }), tmp, { mode: "overlay" });
      mkdirSync(join(this.store.root, "snapshots"), { recursive: true });
      try {
        renameSync(tmp, dir);
      } catch (e) {
        // Another build made it first: theirs is as good as ours.
        if (!existsSync(dir)) throw e;
        rmSync(tmp, { recursive: true, force: true });
      }
      return dir;
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /** Records a layer's table of contents from the entries just written (skips re-reading the tar). */
  async index(layer: LayerRef): Promise<Toc> {
    return this.toc(layer.diffId);
  }
}
