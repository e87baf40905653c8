import { createReadStream, lstatSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { digestHex, StrataError } from "@strata/graph";
import { MediaType, type FsBlobStore } from "@strata/oci";
import { CACHE_ARTIFACT_TYPE, MAX_CACHE_MANIFEST_BYTES, parseCacheManifest, type CacheBlob, type CacheManifest } from "./format.ts";
import type { CacheSource } from "./source.ts";

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * A cache in an OCI layout directory (`--cache-to type=local,dest=DIR`): `index.json` lists
 * the cache artifact's manifest; blobs are under `blobs/sha256/`. The directory is untrusted:
 * a blob must be a regular file (never a symlink out of the layout), and every blob is copied
 * into the store verified by digest and size.
 */
export class LocalCacheSource implements CacheSource {
  readonly name: string;

  /** `store` receives the manifests (verified) when they are read. */
  constructor(
    readonly dir: string,
    private readonly store: FsBlobStore,
  ) {
    this.name = `local:${dir}`;
  }

  /** Finds the cache in index.json and reads its cache manifest (verified, size-bounded). */
  async manifest(signal: AbortSignal): Promise<CacheManifest> {
    const index = JSON.parse(readFileSync(join(this.dir, "index.json"), "utf8")) as { manifests?: Array<CacheBlob & { artifactType?: string }> };
    const entry = (index.manifests ?? []).find((m) => m.artifactType === CACHE_ARTIFACT_TYPE);
    if (!entry) throw new StrataError("STRATA_CACHE_MANIFEST_INVALID", `${this.name} holds no Strata cache (index.json lists no ${CACHE_ARTIFACT_TYPE})`, { hint: "point --cache-from type=local,src= at a directory written by --cache-to type=local" });
    if (entry.mediaType !== MediaType.OciManifest || entry.size > MAX_CACHE_MANIFEST_BYTES) throw new StrataError("STRATA_CACHE_MANIFEST_INVALID", `${this.name}: the cache entry is not a bounded OCI manifest`);
    await this.fetch(entry, this.store, signal);
    const manifest = JSON.parse(readFileSync(this.store.pathOf(entry.digest), "utf8")) as { config?: CacheBlob };
    if (!manifest.config || manifest.config.size > MAX_CACHE_MANIFEST_BYTES) throw new StrataError("STRATA_CACHE_MANIFEST_INVALID", `${this.name}: the cache artifact has no bounded config`);
    await this.fetch(manifest.config, this.store, signal);
    return parseCacheManifest(readFileSync(this.store.pathOf(manifest.config.digest)), this.name);
  }

  /** Copies one blob (a regular file, never a symlink) into `into`, verified by digest and size. */
  async fetch(blob: CacheBlob, into: FsBlobStore, signal: AbortSignal): Promise<void> {
    if ((await into.size(blob.digest)) === blob.size) return;
    if (!DIGEST.test(blob.digest)) throw new StrataError("STRATA_CACHE_BLOB_INVALID", `${this.name}: malformed digest ${JSON.stringify(blob.digest)}`);
    const path = join(this.dir, "blobs", "sha256", digestHex(blob.digest));
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st?.isFile()) throw new StrataError("STRATA_CACHE_BLOB_INVALID", `${this.name}: blob ${blob.digest} is ${st ? "not a regular file" : "missing"}`);
    await into.put(createReadStream(path, { highWaterMark: 1 << 20, signal }), { digest: blob.digest, size: blob.size });
  }
}
