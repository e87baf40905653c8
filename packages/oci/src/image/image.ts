import type { Readable } from "node:stream";
import type { Digest, ImageConfigFile } from "@strata/graph";
import { decompressed } from "../compress/decompress.ts";
import type { BlobStore } from "../blob-store.ts";
import type { Descriptor, Index, Manifest } from "../descriptor.ts";

/**
 * One layer of an image, in the spirit of go-containerregistry's `v1.Layer`: the metadata
 * is plain data, only the bytes are I/O.
 */
export interface ImageLayer {
  /** The layer as the manifest lists it (digest and size of the blob, compressed or not). */
  readonly descriptor: Descriptor;
  /** Digest of the uncompressed tar, as the config's `rootfs.diff_ids` lists it. */
  readonly diffId: Digest;
  /** The blob's bytes exactly as stored (they hash to `descriptor.digest`). */
  open(): Promise<Readable>;
  /** A local file holding exactly the blob, when there is one (enables hard links and zero-copy). */
  readonly path?: string;
}

/**
 * A single-platform image: a small read-only interface that every source implements — the
 * build engine's output, an OCI layout (directory or tar), a `docker save` archive, and the
 * registry client. Manifest and config are loaded eagerly (they are small) and kept as the
 * raw bytes they were read or authored as: digests are always over those bytes, nothing is
 * ever re-serialized.
 */
export interface OciImage {
  readonly manifestBytes: Uint8Array;
  readonly manifestDigest: Digest;
  /** Media type of the manifest (from its descriptor or its `mediaType` field). */
  readonly manifestMediaType: string;
  readonly manifest: Manifest;
  readonly configBytes: Uint8Array;
  readonly config: ImageConfigFile;
  readonly layers: readonly ImageLayer[];
}

/** A multi-platform image: an index and the images it lists (in the index's order). */
export interface OciImageIndex {
  readonly indexBytes: Uint8Array;
  readonly indexDigest: Digest;
  readonly index: Index;
  readonly images: readonly OciImage[];
}

export function isImageIndex(x: OciImage | OciImageIndex): x is OciImageIndex {
  return "indexBytes" in x;
}

/** The read side of a blob store: what image sources need. */
export type BlobReader = Pick<BlobStore, "has" | "size" | "open" | "pathOf">;

/** The uncompressed tar of a layer (gzip and zstd are detected from the bytes). */
export async function* openUncompressed(layer: ImageLayer): AsyncGenerator<Buffer> {
  yield* decompressed(await layer.open());
}

/** A manifest descriptor for an image (size and digest of its manifest bytes). */
export function manifestDescriptor(image: OciImage): Descriptor {
  const p = image.config;
  return {
    mediaType: image.manifestMediaType,
    digest: image.manifestDigest,
    size: image.manifestBytes.length,
    platform: { os: p.os, architecture: p.architecture, ...(p.variant ? { variant: p.variant } : {}) },
  };
}
