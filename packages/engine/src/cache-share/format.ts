import { StrataError, type Digest } from "@strata/graph";
import { CACHE_KEY_VERSION } from "../solver/cache-key.ts";
import type { CacheRecord } from "../solver/results.ts";

/**
 * The shared-cache format, version 1. A cache is an OCI image manifest (in a registry, or in
 * an OCI layout directory) with `artifactType` {@link CACHE_ARTIFACT_TYPE}; its config blob is
 * the cache manifest (a {@link CacheManifest}, media type {@link CACHE_CONFIG_MEDIA_TYPE}) and
 * its layers are the blobs the manifest refers to: ordinary layer blobs (the same gzip bytes
 * an image push uploads, so a registry holds them once), base image configs, and cache-mount
 * archives. Nothing in it names a machine: keys are digests of content and of the build's
 * resolved inputs, and every blob is addressed by its digest.
 */
export const CACHE_ARTIFACT_TYPE = "application/vnd.strata.cache.v1+json";
/** The media type of the config blob: the cache manifest itself. */
export const CACHE_CONFIG_MEDIA_TYPE = "application/vnd.strata.cache.config.v1+json";
/** A cache mount's contents: a tar (gzip or not) whose paths are relative to the mount's root. */
export const CACHE_MOUNT_MEDIA_TYPE = "application/vnd.strata.cache.mount.v1.tar";
/** The cache manifest's own format version (bumped on an incompatible change). */
export const CACHE_FORMAT_VERSION = 1;
/** Cache manifests bigger than this are refused (a hostile source cannot exhaust memory). */
export const MAX_CACHE_MANIFEST_BYTES = 64 << 20;

/** A blob the cache manifest refers to, where it is stored (a descriptor in the artifact's layers). */
export interface CacheBlob {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
}

/** One layer: the blob that holds it (compressed or not) and the uncompressed tar's diffID. */
export interface CacheLayer extends CacheBlob {
  readonly diffId: Digest;
}

/** A cache mount's contents at export time, by mount id. */
export interface CacheMountEntry extends CacheBlob {
  /** Digest of the uncompressed tar (checked after decompressing). */
  readonly diffId: Digest;
}

/**
 * The cache manifest (the artifact's config blob), as JSON:
 *
 * ```json
 * { "strataCache": 1, "keyVersion": 1,
 *   "records": { "<cache key>": { "layers": [{"diffId": "sha256:…", "size": 1234}], "added": true,
 *                                 "base": { "manifestDigest": "sha256:…", "configDigest": "sha256:…" } } },
 *   "layers": { "<diffID>": { "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:…", "size": 456 } },
 *   "configs": { "<config digest>": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:…", "size": 789 } },
 *   "mounts": { "<cache mount id>": { "mediaType": "…mount.v1.tar+gzip", "digest": "sha256:…", "size": 99, "diffId": "sha256:…" } } }
 * ```
 *
 * `records` is exactly what the local store records per step (store.putCache), keyed by the
 * same machine-independent cache keys (`keyVersion` is the key derivation's version: a
 * manifest written with another one never matches). `layers` maps every diffID a record names
 * to its blob; `configs` holds the configs image-source records name.
 */
export interface CacheManifest {
  readonly strataCache: typeof CACHE_FORMAT_VERSION;
  readonly keyVersion: number;
  readonly records: Readonly<Record<string, CacheRecord>>;
  readonly layers: Readonly<Record<string, CacheLayer>>;
  readonly configs: Readonly<Record<string, CacheBlob>>;
  readonly mounts: Readonly<Record<string, CacheMountEntry>>;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

function bad(what: string, source: string): StrataError {
  return new StrataError("STRATA_CACHE_MANIFEST_INVALID", `the cache manifest from ${source} is unusable: ${what}`, { hint: "export the cache again (--cache-to); an older or newer Strata may have written it" });
}

/** Canonical bytes for a cache manifest (sorted keys: the same cache gives the same digest). */
export function encodeCacheManifest(m: CacheManifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(sortKeys(m)));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/**
 * Parses and validates a cache manifest read from `source`: every digest well-formed, every
 * size a non-negative integer, every diffID a record names backed by a layer blob. Anything
 * else is STRATA_CACHE_MANIFEST_INVALID (the caller turns it into a warning). A manifest for
 * another key version parses to an empty cache: its keys cannot match.
 */
export function parseCacheManifest(bytes: Uint8Array, source: string): CacheManifest {
  if (bytes.byteLength > MAX_CACHE_MANIFEST_BYTES) throw bad(`it is ${bytes.byteLength} bytes (the limit is ${MAX_CACHE_MANIFEST_BYTES})`, source);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as Record<string, unknown>;
  } catch (e) {
    throw bad(`not JSON (${(e as Error).message})`, source);
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) throw bad("not a JSON object", source);
  if (json.strataCache !== CACHE_FORMAT_VERSION) throw bad(`format version ${JSON.stringify(json.strataCache)} (this Strata reads ${CACHE_FORMAT_VERSION})`, source);
  const empty: CacheManifest = { strataCache: CACHE_FORMAT_VERSION, keyVersion: CACHE_KEY_VERSION, records: {}, layers: {}, configs: {}, mounts: {} };
  if (json.keyVersion !== CACHE_KEY_VERSION) return empty;
  const records = objectOf(json.records, "records", source);
  const layers = objectOf(json.layers, "layers", source);
  const configs = objectOf(json.configs, "configs", source);
  const mounts = objectOf(json.mounts, "mounts", source);
  for (const [d, l] of Object.entries(layers)) {
    checkBlob(l, `layer ${d}`, source);
    if (!DIGEST.test(d) || (l as CacheLayer).diffId !== d) throw bad(`layer ${JSON.stringify(d)} is keyed by something other than its diffID`, source);
  }
  for (const [d, c] of Object.entries(configs)) {
    checkBlob(c, `config ${d}`, source);
    if ((c as CacheBlob).digest !== d) throw bad(`config ${JSON.stringify(d)} is keyed by something other than its digest`, source);
  }
  for (const [id, m] of Object.entries(mounts)) {
    checkBlob(m, `cache mount ${JSON.stringify(id)}`, source);
    if (!DIGEST.test(String((m as CacheMountEntry).diffId))) throw bad(`cache mount ${JSON.stringify(id)} has no valid diffId`, source);
  }
  for (const [key, r] of Object.entries(records)) {
    if (!DIGEST.test(key)) throw bad(`record key ${JSON.stringify(key)} is not a digest`, source);
    const rec = r as CacheRecord;
    if (!rec || !Array.isArray(rec.layers)) throw bad(`record ${key} has no layers`, source);
    for (const l of rec.layers) {
      if (!l || !DIGEST.test(String(l.diffId)) || !isSize(l.size)) throw bad(`record ${key} names a malformed layer`, source);
      if (!layers[l.diffId]) throw bad(`record ${key} names layer ${l.diffId}, which the cache does not hold`, source);
    }
    if (rec.added !== undefined && typeof rec.added !== "boolean") throw bad(`record ${key}: "added" is not a boolean`, source);
    if (rec.base !== undefined) {
      if (!DIGEST.test(String(rec.base.configDigest)) || !configs[rec.base.configDigest]) throw bad(`record ${key} names a base config the cache does not hold`, source);
      if (rec.base.manifestDigest !== undefined && !DIGEST.test(String(rec.base.manifestDigest))) throw bad(`record ${key} has a malformed base manifest digest`, source);
    }
  }
  return { strataCache: CACHE_FORMAT_VERSION, keyVersion: CACHE_KEY_VERSION, records: records as CacheManifest["records"], layers: layers as CacheManifest["layers"], configs: configs as CacheManifest["configs"], mounts: mounts as CacheManifest["mounts"] };
}

function objectOf(v: unknown, what: string, source: string): Record<string, unknown> {
  if (v === undefined) return {};
  if (!v || typeof v !== "object" || Array.isArray(v)) throw bad(`"${what}" is not an object`, source);
  return v as Record<string, unknown>;
}

function isSize(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

function checkBlob(b: unknown, what: string, source: string): void {
  const x = b as CacheBlob;
  if (!x || typeof x !== "object" || typeof x.mediaType !== "string" || !DIGEST.test(String(x.digest)) || !isSize(x.size)) throw bad(`${what} is not a valid blob descriptor`, source);
}
