import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { digestHex, StrataError, type Digest } from "@strata/graph";
import { gzipBlob, MediaType } from "@strata/oci";
import { parseReference, type Registry } from "@strata/registry";
import { cacheKey } from "../solver/cache-key.ts";
import type { CacheRecord } from "../solver/results.ts";
import type { Store } from "../store/store.ts";
import { writeJsonAtomic } from "../store/atomic.ts";
import { CACHE_ARTIFACT_TYPE, CACHE_CONFIG_MEDIA_TYPE, CACHE_FORMAT_VERSION, CACHE_MOUNT_MEDIA_TYPE, encodeCacheManifest, type CacheBlob, type CacheLayer, type CacheManifest, type CacheMountEntry } from "./format.ts";
import { CACHE_KEY_VERSION } from "../solver/cache-key.ts";
import { packMount } from "./mount-archive.ts";
import type { RemoteCache } from "./remote-cache.ts";
import { describeCache, type CacheExportSpec } from "./spec.ts";

/** What an export wrote. */
export interface CacheExportResult {
  /** The cache artifact's manifest digest. */
  readonly digest: Digest;
  readonly records: number;
  readonly layers: number;
  readonly mounts: number;
  /** Blobs by outcome (registry exports): uploaded, already there, mounted from another repository. */
  readonly blobs?: { readonly uploaded: number; readonly exists: number; readonly mounted: number };
}

export interface CacheExportOptions {
  /** Required for type=registry. */
  readonly registry?: Registry;
  /** Layers imported lazily and not fetched yet are fetched from here. */
  readonly remote?: RemoteCache;
  /** Cache mounts to include (mode=max): id → directory. */
  readonly mounts?: ReadonlyMap<string, string>;
  /** Repositories in the target registry that may hold the layers already (cross-repository mount). */
  readonly mountFrom?: readonly string[];
  readonly warn: (message: string) => void;
  readonly signal?: AbortSignal;
}

const GZIP_MOUNT = `${CACHE_MOUNT_MEDIA_TYPE}+gzip`;

/**
 * Writes a shared cache: the records, each layer's blob (gzip-compressed once and cached by
 * diffID, so the bytes are exactly those an image push sends and a registry stores once),
 * the base configs records name, and with mode=max the cache mounts (each up to the size
 * cap). To a registry, the artifact is pushed with the client's HEAD-then-upload push, blobs
 * first, mounting from `mountFrom` repositories; to a directory, an OCI layout written blob by
 * blob (temp + rename) with index.json last.
 */
export async function exportCache(store: Store, records: ReadonlyMap<Digest, CacheRecord>, spec: CacheExportSpec, opts: CacheExportOptions): Promise<CacheExportResult> {
  const layers: Record<string, CacheLayer> = {};
  const configs: Record<string, CacheBlob> = {};
  const mounts: Record<string, CacheMountEntry> = {};
  const recs: Record<string, CacheRecord> = {};
  // Layers a shared cache in the target registry served and nobody read stay there: the push
  // finds them (same repository) or mounts them from the source's repository, unfetched.
  const targetDomain = spec.type === "registry" ? parseReference(spec.ref).domain : undefined;
  const remoteRepos = new Set<string>();
  const unfetched = new Map<Digest, NonNullable<ReturnType<RemoteCache["layerOrigin"]>>>();
  for (const [key, rec] of records) {
    for (const l of rec.layers) {
      if (layers[l.diffId]) continue;
      const origin = (await store.blobs.size(l.diffId)) !== l.size ? opts.remote?.layerOrigin(l.diffId) : undefined;
      if (origin?.source.repository && origin.source.repository.domain === targetDomain && !opts.remote?.bad.has(l.diffId)) {
        layers[l.diffId] = origin.blob;
        remoteRepos.add(origin.source.repository.path);
        unfetched.set(origin.blob.digest, origin);
        continue;
      }
      if ((await store.blobs.size(l.diffId)) !== l.size) {
        if (!opts.remote?.canFetch(l.diffId)) throw exportError(spec, `layer ${l.diffId} is not in the store`);
        await opts.remote.fetchLayer(l.diffId);
      }
      layers[l.diffId] = await layerBlob(store, l.diffId, l.size, spec.compression);
    }
    if (rec.base) {
      const size = await store.blobs.size(rec.base.configDigest);
      if (size === undefined) throw exportError(spec, `base config ${rec.base.configDigest} is not in the store`);
      configs[rec.base.configDigest] = { mediaType: MediaType.OciConfig, digest: rec.base.configDigest, size };
    }
    recs[key] = { layers: rec.layers.map((l) => ({ diffId: l.diffId, size: l.size })), ...(rec.added !== undefined ? { added: rec.added } : {}), ...(rec.base ? { base: rec.base } : {}) };
  }
  if (spec.mode === "max") {
    for (const [id, dir] of opts.mounts ?? []) {
      if (spec.mountMax <= 0) break;
      const packed = await packMount(store, dir, spec.mountMax);
      if (packed === "too-big") {
        opts.warn(`cache mount ${JSON.stringify(id)} is bigger than cache-mount-max (${spec.mountMax} bytes): not exported`);
        continue;
      }
      if (!packed) continue;
      if (spec.compression === "gzip") {
        const gz = await gzipBlob(createReadStream(store.blobs.pathOf(packed.diffId), { highWaterMark: 1 << 20 }), { to: { store: store.blobs } });
        mounts[id] = { mediaType: GZIP_MOUNT, digest: gz.digest, size: gz.size, diffId: packed.diffId };
      } else {
        mounts[id] = { mediaType: CACHE_MOUNT_MEDIA_TYPE, digest: packed.diffId, size: packed.size, diffId: packed.diffId };
      }
    }
  }
  if (spec.mode === "max" && spec.mountMax > 0 && opts.remote) {
    // Cache mounts this build did not use travel on from the cache it read, unchanged (a fully
    // cached build re-exporting its cache must not drop them).
    for (const [id, { source, entry }] of await opts.remote.allMounts()) {
      if (mounts[id] || opts.mounts?.has(id)) continue;
      if (source.repository && source.repository.domain === targetDomain) {
        remoteRepos.add(source.repository.path);
        unfetched.set(entry.digest, { source, blob: { ...entry } });
      } else if (!(await opts.remote.fetchBlob(source, entry, `the archive of cache mount ${JSON.stringify(id)}`))) continue;
      mounts[id] = entry;
    }
  }
  const manifest: CacheManifest = { strataCache: CACHE_FORMAT_VERSION, keyVersion: CACHE_KEY_VERSION, records: recs, layers, configs, mounts };
  const configBytes = encodeCacheManifest(manifest);
  const config = await store.blobs.put(configBytes);
  const blobs = new Map<Digest, CacheBlob>();
  for (const b of [...Object.values(layers), ...Object.values(configs), ...Object.values(mounts)]) blobs.set(b.digest, { mediaType: b.mediaType, digest: b.digest, size: b.size });
  const artifact = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: CACHE_ARTIFACT_TYPE,
    config: { mediaType: CACHE_CONFIG_MEDIA_TYPE, digest: config.digest, size: config.size },
    layers: [...blobs.values()],
    annotations: { "org.opencontainers.image.description": `Strata build cache (format ${CACHE_FORMAT_VERSION}, ${Object.keys(recs).length} steps)` },
  };
  const artifactBytes = new TextEncoder().encode(JSON.stringify(artifact));
  const written = await store.blobs.put(artifactBytes);
  const counts = { records: Object.keys(recs).length, layers: Object.keys(layers).length, mounts: Object.keys(mounts).length };
  if (spec.type === "local") {
    writeLayout(store, spec.dest, [config, ...blobs.values(), written].map((b) => b.digest), { digest: written.digest, size: written.size });
    return { digest: written.digest, ...counts };
  }
  if (!opts.registry) throw exportError(spec, "no registry client");
  const target = parseReference(spec.ref);
  const candidates = new Set([...(opts.mountFrom ?? []), ...remoteRepos]);
  // A blob left in the source registry is read from there only if the mount fails.
  const blobSource = {
    open: async (d: Digest) => {
      const origin = unfetched.get(d);
      if (origin && !(await store.blobs.has(d))) await origin.source.fetch(origin.blob, store.blobs, opts.signal ?? new AbortController().signal);
      return store.blobs.open(d);
    },
  };
  const pushed = await opts.registry.push({ manifest: artifactBytes, mediaType: MediaType.OciManifest, blobs: blobSource }, spec.ref, {
    mountFrom: (d) => {
      const repos = new Set(candidates);
      const had = store.getCache<{ repositories?: readonly string[] }>(cacheKey("gzip-candidate", { diffId: layerOf(layers, d.digest) ?? d.digest }));
      for (const r of had?.repositories ?? []) if (r.startsWith(`${target.domain}/`)) repos.add(r.slice(target.domain.length + 1));
      repos.delete(target.path);
      return [...repos];
    },
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const n = (o: string) => pushed.blobs.filter((b) => b.outcome === o).length;
  return { digest: pushed.digest, ...counts, blobs: { uploaded: n("uploaded"), exists: n("exists"), mounted: n("mounted") } };
}

function layerOf(layers: Record<string, CacheLayer>, digest: Digest): Digest | undefined {
  for (const l of Object.values(layers)) if (l.digest === digest) return l.diffId;
  return undefined;
}

/** A layer's blob in the requested compression; gzip is computed once per diffID and cached (the same record image pushes use). */
async function layerBlob(store: Store, diffId: Digest, size: number, compression: "gzip" | "uncompressed"): Promise<CacheLayer> {
  if (compression === "uncompressed") return { mediaType: MediaType.OciLayer, digest: diffId, size, diffId };
  const key = cacheKey("gzip", { diffId });
  let rec = store.getCache<{ digest: Digest; size: number }>(key);
  if (!rec || (await store.blobs.size(rec.digest)) !== rec.size) {
    const out = await gzipBlob(createReadStream(store.blobs.pathOf(diffId), { highWaterMark: 1 << 20 }), { to: { store: store.blobs } });
    rec = { digest: out.digest, size: out.size };
    store.putCache(key, rec);
  }
  return { mediaType: MediaType.OciLayerGzip, digest: rec.digest, size: rec.size, diffId };
}

/** An OCI layout directory holding the cache: blobs copied in (temp + rename), index.json replaced last. */
function writeLayout(store: Store, dir: string, digests: readonly Digest[], manifest: { digest: Digest; size: number }): void {
  const blobDir = join(dir, "blobs", "sha256");
  mkdirSync(blobDir, { recursive: true });
  for (const d of new Set(digests)) {
    const dest = join(blobDir, digestHex(d));
    if (existsSync(dest)) continue;
    const tmp = `${dest}.tmp-${process.pid}`;
    try {
      copyFileSync(store.blobs.pathOf(d), tmp);
      renameSync(tmp, dest);
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  writeJsonAtomic(join(dir, "oci-layout"), { imageLayoutVersion: "1.0.0" });
  const indexPath = join(dir, "index.json");
  let others: unknown[] = [];
  if (existsSync(indexPath)) {
    try {
      const old = JSON.parse(readFileSync(indexPath, "utf8")) as { manifests?: Array<{ artifactType?: string }> };
      others = (old.manifests ?? []).filter((m) => m.artifactType !== CACHE_ARTIFACT_TYPE);
    } catch {
      /* an unreadable index is replaced */
    }
  }
  writeJsonAtomic(indexPath, {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [...others, { mediaType: MediaType.OciManifest, artifactType: CACHE_ARTIFACT_TYPE, digest: manifest.digest, size: manifest.size, annotations: { "org.opencontainers.image.ref.name": "strata-cache" } }],
  });
}

function exportError(spec: CacheExportSpec, why: string): StrataError {
  return new StrataError("STRATA_CACHE_EXPORT_FAILED", `--cache-to ${describeCache(spec)}: ${why}`, { hint: "build again without --no-cache issues; the image itself was built" });
}
