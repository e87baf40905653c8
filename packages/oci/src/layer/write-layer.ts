import type { Digest } from "@strata/graph";
import { GzipSink, type GzipOptions } from "../compress/gzip-sink.ts";
import type { Descriptor } from "../descriptor.ts";
import { openTarget, type BlobTarget } from "../io/blob-target.ts";
import { HashingSink } from "../io/byte-sink.ts";
import type { LayerEntry } from "../layer-entry.ts";
import { MediaType } from "../media-types.ts";
import { TypeFlag, type HeaderFields } from "../tar/header.ts";
import { TarBuilder } from "../tar/tar-builder.ts";
import { orderEntries, type PlacedEntry } from "./order-entries.ts";

/**
 * The engine's default SOURCE_DATE_EPOCH: 0, i.e. 1970-01-01T00:00:00Z. Every mtime in a
 * layer is clamped to it, so the same files give the same layer digest whenever and
 * wherever they were checked out or built.
 */
export const DEFAULT_SOURCE_DATE_EPOCH = 0;

export interface WriteLayerOptions {
  readonly to: BlobTarget;
  /**
   * Upper bound for every mtime, in seconds since the epoch (SOURCE_DATE_EPOCH semantics:
   * later times are clamped to it, earlier ones kept). Default 0 — every mtime becomes
   * 1970-01-01T00:00:00Z. `Infinity` keeps mtimes as given.
   */
  readonly sourceDateEpoch?: number;
  /** Default "none": keep layers uncompressed locally, compress once when exporting or pushing. */
  readonly compression?: "none" | "gzip";
  readonly gzip?: GzipOptions;
}

export interface LayerWriteResult {
  /** Digest of the uncompressed tar: what the config's `rootfs.diff_ids` lists. */
  readonly diffId: Digest;
  /** Size of the uncompressed tar in bytes. */
  readonly size: number;
  /** The blob as written (compressed or not): what a manifest lists. */
  readonly descriptor: Descriptor;
  /** Entries written (after de-duplication). */
  readonly entryCount: number;
  /** The blob's file path when the target keeps it as a file. */
  readonly path: string | undefined;
}

/**
 * Writes a deterministic tar layer from `entries` (see `orderEntries` for the order and
 * de-duplication rules) and returns its digests, computed while the bytes stream out.
 * Identical entries give identical bytes: mtimes are clamped to `sourceDateEpoch`,
 * uname/gname are empty unless given, headers are plain ustar with pax records only where
 * ustar cannot hold a value (long or non-ASCII names, large ids or sizes, xattrs).
 */
export async function writeLayer(
  entries: Iterable<LayerEntry> | AsyncIterable<LayerEntry>,
  opts: WriteLayerOptions,
): Promise<LayerWriteResult> {
  const all: LayerEntry[] = [];
  for await (const e of entries) all.push(e);
  const placed = orderEntries(all);
  const epoch = opts.sourceDateEpoch ?? DEFAULT_SOURCE_DATE_EPOCH;
  const gzip = opts.compression === "gzip";

  const target = await openTarget(opts.to);
  const blobHash = new HashingSink(target.sink);
  // Uncompressed, the tar is the blob: hash it once (sha256 is a third of the write's cost).
  const tarHash = gzip ? new HashingSink(new GzipSink(blobHash, opts.gzip)) : blobHash;
  try {
    const tar = new TarBuilder(tarHash);
    for (const p of placed) {
      await writeEntry(tar, p, epoch);
      await tar.breathe();
    }
    await tar.end();
    const digest = blobHash.digest();
    const path = await target.commit(digest, blobHash.size);
    const diffId = gzip ? tarHash.digest() : digest;
    return {
      diffId,
      size: tarHash.size,
      descriptor: { mediaType: gzip ? MediaType.OciLayerGzip : MediaType.OciLayer, digest, size: blobHash.size },
      entryCount: placed.length,
      path,
    };
  } catch (e) {
    await target.abort();
    throw e;
  }
}

async function writeEntry(tar: TarBuilder, p: PlacedEntry, epoch: number): Promise<void> {
  const e = p.entry;
  if (e.type === "whiteout" || e.type === "opaque") {
    // Go and Docker write markers as empty regular files, mode 0, owned by root.
    await tar.header({ name: p.tarName, typeflag: TypeFlag.File, mode: 0, uid: 0, gid: 0, size: 0, mtime: clampTime(0, epoch) });
    return;
  }
  const base = {
    name: p.tarName,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    mtime: clampTime(e.mtime, epoch),
    ...(e.uname ? { uname: e.uname } : {}),
    ...(e.gname ? { gname: e.gname } : {}),
    ...(e.xattrs && Object.keys(e.xattrs).length > 0 ? { xattrs: e.xattrs } : {}),
  };
  let h: HeaderFields;
  switch (e.type) {
    case "file":
      h = { ...base, typeflag: TypeFlag.File, size: e.size };
      break;
    case "directory":
      h = { ...base, typeflag: TypeFlag.Directory, size: 0 };
      break;
    case "symlink":
      h = { ...base, typeflag: TypeFlag.Symlink, size: 0, linkname: e.linkname };
      break;
    case "hardlink":
      h = { ...base, typeflag: TypeFlag.Hardlink, size: 0, linkname: e.linkname };
      break;
    case "char-device":
    case "block-device":
      h = { ...base, typeflag: e.type === "char-device" ? TypeFlag.CharDevice : TypeFlag.BlockDevice, size: 0, devmajor: e.devmajor, devminor: e.devminor };
      break;
    case "fifo":
      h = { ...base, typeflag: TypeFlag.Fifo, size: 0 };
      break;
  }
  await tar.header(h);
  if (e.type !== "file") return;
  if ("path" in e.content) await tar.file(e.content.path, e.size, e.content.offset);
  else await tar.bytes(e.content.bytes);
  await tar.pad(e.size);
}

/** Whole seconds, never negative, never later than `epoch`. */
export function clampTime(mtime: number, epoch: number): number {
  const t = Math.max(0, Math.floor(mtime));
  return Number.isFinite(epoch) ? Math.min(t, Math.max(0, Math.floor(epoch))) : t;
}
