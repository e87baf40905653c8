import { Readable } from "node:stream";
import { StrataError, type Digest } from "@strata/graph";
import { decompressed } from "@strata/oci";
import { cacheKey } from "../solver/cache-key.ts";
import type { CacheRecord } from "../solver/results.ts";
import type { Store } from "../store/store.ts";
import type { CacheBlob, CacheLayer, CacheManifest, CacheMountEntry } from "./format.ts";
import type { CacheSource } from "./source.ts";

/** A record found in a shared cache, and which source had it. */
export interface RemoteHit {
  readonly record: CacheRecord;
  readonly source: string;
}

/** Thrown when a blob of a shared cache is missing or corrupt: the build retries without it. */
export class CacheBlobError extends StrataError {
  constructor(
    readonly blob: Digest,
    message: string,
    cause: unknown,
  ) {
    super("STRATA_CACHE_BLOB_INVALID", message, { hint: "the step that made it runs instead; export the cache again to repair it", cause });
  }
}

/**
 * The shared caches a build reads (`--cache-from`, in the order given). Lazy by design: the
 * cache manifests are read once, at the first lookup (all sources at once, consulted in
 * order); a layer blob is fetched only when a step actually reads the layer, or when it is
 * part of the final image. An unreachable or invalid source is a warning and counts as empty;
 * a blob that is missing or fails its digest is a warning, and every record that needs it is
 * treated as a miss from then on (the build retries, and that step runs).
 */
export class RemoteCache {
  private loaded: Promise<ReadonlyArray<{ source: CacheSource; manifest: CacheManifest } | undefined>> | undefined;
  /** Where each layer will come from: the source of the first hit that named it. */
  private readonly layerSources = new Map<Digest, { source: CacheSource; blob: CacheLayer }>();
  private readonly fetches = new Map<Digest, Promise<void>>();
  /** Blobs found missing or corrupt (by layer diffID, config digest or mount id). */
  readonly bad = new Set<string>();
  /** Cache keys served from a shared cache in this build, and by which source. */
  readonly served = new Map<Digest, string>();

  /**
   * @param sources consulted in this order (`--cache-from` order)
   * @param warn where warnings go (unreachable sources, bad blobs); they never fail the build
   */
  constructor(
    readonly sources: readonly CacheSource[],
    private readonly store: Store,
    readonly warn: (message: string) => void,
    private readonly signal: AbortSignal,
  ) {}

  private manifests() {
    this.loaded ??= Promise.all(
      this.sources.map((source) =>
        source.manifest(this.signal).then(
          (manifest) => ({ source, manifest }),
          (e: unknown) => {
            this.warn(`cache source ${source.name} is not usable, building without it: ${e instanceof Error ? e.message : String(e)}`);
            return undefined;
          },
        ),
      ),
    );
    return this.loaded;
  }

  /** The first source's record for `key` whose blobs are not known bad; the base config is fetched now (it is small and read at once). */
  async lookup(key: Digest): Promise<RemoteHit | undefined> {
    for (const m of await this.manifests()) {
      const record = m?.manifest.records[key];
      if (!m || !record) continue;
      if (record.layers.some((l) => this.bad.has(l.diffId)) || (record.base && this.bad.has(record.base.configDigest))) continue;
      if (record.base) {
        const blob = m.manifest.configs[record.base.configDigest]!;
        try {
          await m.source.fetch(blob, this.store.blobs, this.signal);
        } catch (e) {
          this.bad.add(blob.digest);
          this.warn(`${m.source.name}: base config ${blob.digest} is unusable (${(e as Error).message}); that step runs instead`);
          continue;
        }
      }
      for (const l of record.layers) if (!this.layerSources.has(l.diffId)) this.layerSources.set(l.diffId, { source: m.source, blob: m.manifest.layers[l.diffId]! });
      this.served.set(key, m.source.name);
      return { record, source: m.source.name };
    }
    return undefined;
  }

  /** Whether a layer missing from the store can be fetched from a shared cache. */
  canFetch(diffId: Digest): boolean {
    return this.layerSources.has(diffId) && !this.bad.has(diffId);
  }

  /** Where a layer came from (its compressed blob and source), for exports that mount it instead of uploading it. */
  layerOrigin(diffId: Digest): { readonly source: CacheSource; readonly blob: CacheLayer } | undefined {
    return this.layerSources.get(diffId);
  }

  /**
   * Fetches a layer into the store: the blob verified by its digest, then decompressed and
   * verified against its diffID. A gzip blob is kept and recorded as the layer's compressed
   * form, so pushing the image (or exporting the cache again) sends the very same bytes.
   */
  fetchLayer(diffId: Digest): Promise<void> {
    let p = this.fetches.get(diffId);
    if (!p) {
      p = this.doFetchLayer(diffId);
      this.fetches.set(diffId, p);
    }
    return p;
  }

  private async doFetchLayer(diffId: Digest): Promise<void> {
    const origin = this.layerSources.get(diffId);
    if (!origin || this.bad.has(diffId)) throw new CacheBlobError(diffId, `layer ${diffId} is in no usable cache source`, undefined);
    const { source, blob } = origin;
    try {
      await source.fetch(blob, this.store.blobs, this.signal);
      if (blob.digest !== diffId) {
        await this.store.blobs.put(Readable.from(decompressed(await this.store.blobs.open(blob.digest))), { digest: diffId });
        this.store.putCache(cacheKey("gzip", { diffId }), { digest: blob.digest, size: blob.size });
      }
    } catch (e) {
      if (this.signal.aborted) throw e;
      this.bad.add(diffId);
      const why = e instanceof Error ? e.message : String(e);
      this.warn(`${source.name}: layer ${blob.digest} is missing or corrupt (${why}); the step that made it runs instead`);
      throw new CacheBlobError(diffId, `layer ${diffId} from ${source.name} is unusable: ${why}`, e);
    }
  }

  /** The first source's archive of cache mount `id`, if any. */
  async mount(id: string): Promise<{ source: CacheSource; entry: CacheMountEntry } | undefined> {
    if (this.bad.has(`mount:${id}`)) return undefined;
    for (const m of await this.manifests()) {
      const entry = m?.manifest.mounts[id];
      if (m && entry) return { source: m.source, entry };
    }
    return undefined;
  }

  /** Every cache mount the sources hold, each from the first source that has it (what a re-export carries over). */
  async allMounts(): Promise<Map<string, { source: CacheSource; entry: CacheMountEntry }>> {
    const out = new Map<string, { source: CacheSource; entry: CacheMountEntry }>();
    for (const m of await this.manifests()) {
      if (!m) continue;
      for (const [id, entry] of Object.entries(m.manifest.mounts)) if (!out.has(id) && !this.bad.has(`mount:${id}`)) out.set(id, { source: m.source, entry });
    }
    return out;
  }

  /** Fetches a blob (verified) into the store; false, with a warning, when it is unusable. */
  async fetchBlob(source: CacheSource, blob: CacheBlob, what: string): Promise<boolean> {
    try {
      await source.fetch(blob, this.store.blobs, this.signal);
      return true;
    } catch (e) {
      if (this.signal.aborted) throw e;
      this.warn(`${source.name}: ${what} ${blob.digest} is missing or corrupt (${e instanceof Error ? e.message : String(e)}); going without it`);
      return false;
    }
  }
}
