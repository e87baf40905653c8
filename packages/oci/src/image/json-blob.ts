import { createHash } from "node:crypto";
import { canonicalJson, type CanonicalValue, type Digest, type ImageConfigFile } from "@strata/graph";
import type { Descriptor, Index, Manifest } from "../descriptor.ts";
import { MediaType } from "../media-types.ts";

/** A JSON blob Strata authored: its value, the exact bytes, and their digest. */
export interface JsonBlob<T> {
  readonly value: T;
  readonly bytes: Uint8Array;
  readonly digest: Digest;
  readonly mediaType: string;
  readonly descriptor: Descriptor;
}

/**
 * Canonical bytes for a blob Strata writes: keys sorted, no whitespace, UTF-8 — so the same
 * value always has the same digest. Only for blobs we author; a blob read from anywhere
 * keeps its own bytes.
 */
export function encodeJson(value: unknown): Uint8Array {
  return Buffer.from(canonicalJson(value as CanonicalValue), "utf8");
}

export function sha256Of(bytes: Uint8Array): Digest {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}` as Digest;
}

export function jsonBlob<T>(value: T, mediaType: string): JsonBlob<T> {
  const bytes = encodeJson(value);
  const digest = sha256Of(bytes);
  return { value, bytes, digest, mediaType, descriptor: { mediaType, digest, size: bytes.length } };
}

export type ImageFormat = "oci" | "docker";

/** The config blob (`application/vnd.oci.image.config.v1+json` or Docker's). */
export function createConfig(config: ImageConfigFile, format: ImageFormat = "oci"): JsonBlob<ImageConfigFile> {
  return jsonBlob(config, format === "oci" ? MediaType.OciConfig : MediaType.DockerConfig);
}

export interface CreateManifestOptions {
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly subject?: Descriptor;
  /** Default "oci". */
  readonly format?: ImageFormat;
}

/** An image manifest with its `mediaType` field set (required by Docker, recommended by OCI 1.1). */
export function createManifest(opts: CreateManifestOptions): JsonBlob<Manifest> {
  const mediaType = (opts.format ?? "oci") === "oci" ? MediaType.OciManifest : MediaType.DockerManifest;
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType,
    config: opts.config,
    layers: opts.layers,
    ...(opts.annotations && Object.keys(opts.annotations).length > 0 ? { annotations: opts.annotations } : {}),
    ...(opts.subject ? { subject: opts.subject } : {}),
  };
  return jsonBlob(manifest, mediaType);
}

export interface CreateIndexOptions {
  /** Manifest descriptors, each with its `platform`. */
  readonly manifests: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly format?: ImageFormat;
}

export function createIndex(opts: CreateIndexOptions): JsonBlob<Index> {
  const mediaType = (opts.format ?? "oci") === "oci" ? MediaType.OciIndex : MediaType.DockerManifestList;
  const index: Index = {
    schemaVersion: 2,
    mediaType,
    manifests: opts.manifests,
    ...(opts.annotations && Object.keys(opts.annotations).length > 0 ? { annotations: opts.annotations } : {}),
  };
  return jsonBlob(index, mediaType);
}
