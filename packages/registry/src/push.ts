import { Readable } from "node:stream";
import type { Digest } from "@strata/graph";
import type { BlobStore, Descriptor } from "@strata/oci";
import { uploadBlob, type BlobSource, type UploadOutcome } from "./blob-upload.ts";
import { registryError, RegistryErrorCode } from "./errors.ts";
import { drain, header } from "./http.ts";
import { mapLimit } from "./limit.ts";
import { parseManifest, sha256Of, type RawManifest } from "./manifest.ts";
import type { ProgressCallback } from "./progress.ts";
import { formatReference, manifestReference, withDigest, type Reference } from "./reference.ts";
import type { RetryOptions } from "./retry.ts";
import { repositoryScope, type RegistryTransport } from "./transport.ts";
import { responseError } from "./transport.ts";

/** An image to push: its exact manifest bytes and where its blobs come from. */
export interface ImageSource {
  readonly manifest: Uint8Array;
  /** Default: the manifest's own `mediaType`, else OCI. */
  readonly mediaType?: string;
  /** Blob source for the config and layers (a BlobStore fits). */
  readonly blobs: BlobSource;
  /** The config's exact bytes, when they are not in `blobs`. */
  readonly config?: Uint8Array;
}

/** A multi-platform image: the index bytes and each platform image it lists. */
export interface IndexSource {
  readonly index: Uint8Array;
  readonly mediaType?: string;
  readonly manifests: readonly ImageSource[];
}

export type PushSource = ImageSource | IndexSource;

export interface PushOptions {
  /** Blobs uploaded at once. Default 3. */
  readonly concurrency?: number;
  /**
   * Repositories in the target registry that already hold a blob, for a cross-repository
   * mount instead of an upload (e.g. the base image's repository).
   */
  readonly mountFrom?: (desc: Descriptor) => readonly string[] | string | undefined;
  readonly monolithicMax?: number;
  readonly chunkSize?: number;
  readonly onProgress?: ProgressCallback;
  readonly signal?: AbortSignal;
  readonly retry?: RetryOptions;
}

export interface PushResult {
  /** Digest of what the references now point at (the index for an IndexSource). */
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
  /** Every reference pushed, with the digest filled in. */
  readonly refs: readonly Reference[];
  readonly blobs: readonly { readonly digest: Digest; readonly outcome: UploadOutcome }[];
}

export function isIndexSource(s: PushSource): s is IndexSource {
  return (s as IndexSource).index !== undefined;
}

function parsed(raw: Uint8Array, mediaType: string | undefined): RawManifest {
  try {
    return parseManifest(raw, mediaType);
  } catch (e) {
    throw registryError(RegistryErrorCode.PushSourceInvalid, `the manifest to push is unusable: ${(e as Error).message}`, { cause: e });
  }
}

/** Config bytes given inline are served from memory; everything else from the source's blobs. */
function blobSourceFor(img: ImageSource, configDigest: Digest): BlobSource {
  if (!img.config) return img.blobs;
  const config = img.config;
  return { open: async (d) => (d === configDigest ? Readable.from([Buffer.from(config)]) : img.blobs.open(d)) };
}

async function putManifest(t: RegistryTransport, repo: string, target: string, m: RawManifest, signal: AbortSignal | undefined): Promise<void> {
  const what = `PUT manifest ${t.registry}/${repo}:${target}`;
  const res = await t.requestRetrying(
    {
      method: "PUT",
      path: `/v2/${repo}/manifests/${target}`,
      scopes: [repositoryScope(repo, ["pull", "push"])],
      headers: { "content-type": m.mediaType },
      body: () => m.raw,
      ...(signal ? { signal } : {}),
    },
    what,
  );
  if (res.status !== 201 && res.status !== 200) throw await responseError(res, what);
  drain(res);
  const d = header(res, "docker-content-digest");
  if (d && d !== m.digest) throw registryError(RegistryErrorCode.DigestMismatch, `${what}: registry stored ${d}, we sent ${m.digest}`);
}

async function pushImageBlobs(t: RegistryTransport, repo: string, img: ImageSource, m: RawManifest & { kind: "manifest" }, opts: PushOptions): Promise<{ digest: Digest; outcome: UploadOutcome }[]> {
  if (img.config && sha256Of(img.config) !== m.parsed.config.digest) {
    throw registryError(RegistryErrorCode.PushSourceInvalid, `the config bytes given hash to ${sha256Of(img.config)}, but the manifest names ${m.parsed.config.digest}`);
  }
  const source = blobSourceFor(img, m.parsed.config.digest);
  const seen = new Set<string>();
  // Layers first and the config last, as Docker does: a registry that sees the config has the rest.
  const blobs = [...m.parsed.layers, m.parsed.config].filter((d) => {
    if (seen.has(d.digest)) return false;
    seen.add(d.digest);
    return true;
  });
  return mapLimit(blobs, opts.concurrency ?? 3, async (d, _i, signal) => {
    const from = opts.mountFrom?.(d);
    const outcome = await uploadBlob(t, repo, d, source, {
      ...(from !== undefined ? { mountFrom: typeof from === "string" ? [from] : from } : {}),
      ...(opts.monolithicMax !== undefined ? { monolithicMax: opts.monolithicMax } : {}),
      ...(opts.chunkSize !== undefined ? { chunkSize: opts.chunkSize } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      signal,
      ...(opts.retry ? { retry: opts.retry } : {}),
    });
    return { digest: d.digest, outcome };
  }, opts.signal);
}

/**
 * Pushes an image or an index to one repository under each of `refs` (all in `t`'s registry
 * and the same repository): blobs first, then platform manifests by digest, then the
 * top-level manifest under every tag.
 */
export async function pushToRepository(t: RegistryTransport, repo: string, source: PushSource, refs: readonly Reference[], opts: PushOptions = {}): Promise<PushResult> {
  const blobResults: { digest: Digest; outcome: UploadOutcome }[] = [];
  let top: RawManifest;
  if (isIndexSource(source)) {
    top = parsed(source.index, source.mediaType);
    if (top.kind !== "index") throw registryError(RegistryErrorCode.PushSourceInvalid, "IndexSource.index is not an image index");
    const children = new Map<string, { img: ImageSource; m: RawManifest & { kind: "manifest" } }>();
    for (const img of source.manifests) {
      const m = parsed(img.manifest, img.mediaType);
      if (m.kind !== "manifest") throw registryError(RegistryErrorCode.PushSourceInvalid, "nested indexes are not supported");
      children.set(m.digest, { img, m });
    }
    for (const entry of top.parsed.manifests) {
      const child = children.get(entry.digest);
      if (!child) throw registryError(RegistryErrorCode.PushSourceInvalid, `the index lists ${entry.digest}, which is not among the manifests given`);
      blobResults.push(...(await pushImageBlobs(t, repo, child.img, child.m, opts)));
      await putManifest(t, repo, child.m.digest, child.m, opts.signal);
    }
  } else {
    top = parsed(source.manifest, source.mediaType);
    if (top.kind !== "manifest") throw registryError(RegistryErrorCode.PushSourceInvalid, "ImageSource.manifest is an index: pass an IndexSource");
    blobResults.push(...(await pushImageBlobs(t, repo, source, top, opts)));
  }
  const targets = new Set<string>();
  for (const r of refs) {
    if (r.digest && r.digest !== top.digest) {
      throw registryError(RegistryErrorCode.PushSourceInvalid, `cannot push ${top.digest} as ${formatReference(r)}: the digest differs`);
    }
    targets.add(r.tag ?? manifestReference(r));
  }
  if (targets.size === 0) targets.add(top.digest);
  for (const target of targets) await putManifest(t, repo, target, top, opts.signal);
  return {
    digest: top.digest,
    mediaType: top.mediaType,
    size: top.raw.byteLength,
    refs: refs.map((r) => withDigest(r, top.digest)),
    blobs: blobResults,
  };
}

async function readAllFrom(store: Pick<BlobStore, "open">, digest: Digest): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of (await store.open(digest)) as AsyncIterable<Buffer>) chunks.push(c);
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * A push source for a manifest or index that lives in a BlobStore (the build cache, an OCI
 * layout's blobs): reads the manifest bytes and, for an index, each child it lists.
 */
export async function sourceFromStore(store: Pick<BlobStore, "open">, digest: Digest): Promise<PushSource> {
  const raw = await readAllFrom(store, digest);
  const m = parsed(raw, undefined);
  if (m.digest !== digest) throw registryError(RegistryErrorCode.PushSourceInvalid, `blob ${digest} in the store hashes to ${m.digest}`);
  if (m.kind === "manifest") return { manifest: raw, mediaType: m.mediaType, blobs: store };
  const manifests: ImageSource[] = [];
  for (const e of m.parsed.manifests) {
    const child = await readAllFrom(store, e.digest);
    manifests.push({ manifest: child, mediaType: e.mediaType, blobs: store });
  }
  return { index: raw, mediaType: m.mediaType, manifests };
}
