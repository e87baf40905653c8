import type { FsBlobStore } from "@strata/oci";
import type { CacheBlob, CacheManifest } from "./format.ts";

/**
 * Where a shared cache is read from: a registry artifact or an OCI layout directory. Both hand
 * out the cache manifest first and a blob only when asked; every blob lands in the store
 * through `FsBlobStore.put` with its digest and size, so nothing unverified becomes visible.
 */
export interface CacheSource {
  /** `registry:REF` or `local:DIR`, for warnings and --explain. */
  readonly name: string;
  /** The registry repository the cache lives in (cross-repository mounts on export), if any. */
  readonly repository?: { readonly domain: string; readonly path: string };
  /** Reads and validates the cache manifest; throws when the source is unreachable or invalid. */
  manifest(signal: AbortSignal): Promise<CacheManifest>;
  /** Copies one blob into the store, verified by digest and size; throws when missing or corrupt. */
  fetch(blob: CacheBlob, into: FsBlobStore, signal: AbortSignal): Promise<void>;
}
