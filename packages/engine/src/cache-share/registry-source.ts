import { readFileSync } from "node:fs";
import { StrataError } from "@strata/graph";
import { MediaType, type FsBlobStore } from "@strata/oci";
import { downloadBlob, parseReference, type Registry } from "@strata/registry";
import { CACHE_ARTIFACT_TYPE, CACHE_CONFIG_MEDIA_TYPE, MAX_CACHE_MANIFEST_BYTES, parseCacheManifest, type CacheBlob, type CacheManifest } from "./format.ts";
import type { CacheSource } from "./source.ts";

/**
 * A cache stored in a registry as an OCI artifact: the image manifest at `ref` (artifactType
 * {@link CACHE_ARTIFACT_TYPE}), its config blob the cache manifest, its layers the blobs.
 * Uses the registry client's public API: its transport brings authentication, retries and
 * deadlines; downloadBlob verifies every byte against the digest.
 */
export class RegistryCacheSource implements CacheSource {
  readonly name: string;
  readonly repository: { readonly domain: string; readonly path: string };

  /** `store` receives the cache manifest (verified) when it is read. */
  constructor(
    private readonly registry: Registry,
    readonly ref: string,
    private readonly store: FsBlobStore,
  ) {
    this.name = `registry:${ref}`;
    const r = parseReference(ref);
    this.repository = { domain: r.domain, path: r.path };
  }

  /** Reads the artifact at `ref`, checks its type, fetches and validates its cache manifest. */
  async manifest(signal: AbortSignal): Promise<CacheManifest> {
    const m = await this.registry.manifest(this.ref, { signal });
    if (m.kind !== "manifest" || m.mediaType !== MediaType.OciManifest) throw notCache(this.name, "it is not an OCI image manifest");
    const parsed = m.parsed as unknown as { artifactType?: string; config: CacheBlob };
    if (parsed.config.mediaType !== CACHE_CONFIG_MEDIA_TYPE && parsed.artifactType !== CACHE_ARTIFACT_TYPE) throw notCache(this.name, `its artifact type is ${JSON.stringify(parsed.artifactType ?? parsed.config.mediaType)}`);
    if (parsed.config.size > MAX_CACHE_MANIFEST_BYTES) throw notCache(this.name, `its cache manifest is ${parsed.config.size} bytes`);
    await this.fetch(parsed.config, this.store, signal);
    return parseCacheManifest(readFileSync(this.store.pathOf(parsed.config.digest)), this.name);
  }

  /** Downloads one blob of the repository into `into`, verified (downloadBlob). */
  async fetch(blob: CacheBlob, into: FsBlobStore, signal: AbortSignal): Promise<void> {
    await downloadBlob(this.registry.transport(this.repository.domain), this.repository.path, blob, into, { signal });
  }
}

function notCache(name: string, why: string): StrataError {
  return new StrataError("STRATA_CACHE_MANIFEST_INVALID", `${name} is not a Strata cache: ${why}`, { hint: "point --cache-from at a reference written by --cache-to type=registry" });
}
