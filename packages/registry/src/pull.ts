import { formatPlatform, type Digest, type ImageConfigFile, type Platform } from "@strata/graph";
import type { BlobStore, Descriptor, Index, Manifest } from "@strata/oci";
import { downloadBlob } from "./blob-download.ts";
import { registryError, RegistryErrorCode } from "./errors.ts";
import { header } from "./http.ts";
import { mapLimit } from "./limit.ts";
import { MANIFEST_ACCEPT, readManifestResponse, type RawManifest } from "./manifest.ts";
import { hostPlatform, normalizePlatform, selectManifest } from "./platform-match.ts";
import type { ProgressCallback } from "./progress.ts";
import { formatReference, manifestReference, withDigest, type Reference } from "./reference.ts";
import type { RetryOptions } from "./retry.ts";
import { repositoryScope, responseError, type RegistryTransport } from "./transport.ts";

export interface PullOptions {
  /** Platform to pick from an index. Default: this host's (`linux/amd64` here). */
  readonly platform?: Platform;
  /** Blobs downloaded at once. Default 3 (Docker's `max-concurrent-downloads`). */
  readonly concurrency?: number;
  readonly onProgress?: ProgressCallback;
  readonly signal?: AbortSignal;
  readonly retry?: RetryOptions;
}

export interface PullResult {
  /** The reference pulled, with the manifest digest filled in. */
  readonly ref: Reference;
  /** Digest of the platform manifest (the image's identity). */
  readonly digest: Digest;
  readonly mediaType: string;
  readonly manifest: { readonly raw: Uint8Array; readonly parsed: Manifest };
  readonly config: { readonly raw: Uint8Array; readonly parsed: ImageConfigFile; readonly descriptor: Descriptor };
  readonly layers: readonly Descriptor[];
  /** The platform the manifest was selected for (from the index entry, or the config). */
  readonly platform?: Platform;
  /** Set when the reference named an index: its digest and exact bytes. */
  readonly indexDigest?: Digest;
  readonly index?: { readonly raw: Uint8Array; readonly parsed: Index; readonly mediaType: string };
}

export interface ResolveOptions {
  readonly platform?: Platform;
  readonly signal?: AbortSignal;
}

export interface ResolveResult {
  readonly ref: Reference;
  /** Digest of the platform manifest. */
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
  readonly indexDigest?: Digest;
  readonly platform?: Platform;
}

/** GET one manifest (by tag or digest), verified against the digest that names it. */
export async function getManifest(t: RegistryTransport, ref: Reference, signal?: AbortSignal): Promise<RawManifest> {
  const target = manifestReference(ref);
  const what = `GET manifest ${formatReference(ref)}`;
  const res = await t.requestRetrying(
    {
      method: "GET",
      path: `/v2/${ref.path}/manifests/${target}`,
      scopes: [repositoryScope(ref.path, ["pull"])],
      headers: { accept: MANIFEST_ACCEPT },
      ...(signal ? { signal } : {}),
    },
    what,
  );
  if (res.status !== 200) throw await responseError(res, what);
  return readManifestResponse(res, ref.digest, what);
}

function choose(index: RawManifest & { kind: "index" }, ref: Reference, platform: Platform): Descriptor {
  const picked = selectManifest(index.parsed.manifests, platform);
  if (!picked) {
    const available = index.parsed.manifests.filter((m) => m.platform).map((m) => formatPlatform(normalizePlatform(m.platform!)));
    throw registryError(RegistryErrorCode.PlatformNotFound, `${formatReference(ref)} has no image for ${formatPlatform(platform)}`, {
      hint: available.length ? `available: ${[...new Set(available)].join(", ")}` : "the index lists no platforms",
    });
  }
  return picked;
}

/**
 * The manifest digest a reference stands for on `platform`, as cheaply as possible: a HEAD
 * gives the digest and media type; only an index costs a GET (of the small index).
 */
export async function resolveManifest(t: RegistryTransport, ref: Reference, opts: ResolveOptions = {}): Promise<ResolveResult> {
  const platform = opts.platform ?? hostPlatform();
  const what = `HEAD manifest ${formatReference(ref)}`;
  const res = await t.requestRetrying(
    {
      method: "HEAD",
      path: `/v2/${ref.path}/manifests/${manifestReference(ref)}`,
      scopes: [repositoryScope(ref.path, ["pull"])],
      headers: { accept: MANIFEST_ACCEPT },
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
    what,
  );
  res.body.resume();
  if (res.status === 404 || res.status === 401 || res.status === 403) throw await responseError(res, what);
  const digest = header(res, "docker-content-digest");
  const mediaType = header(res, "content-type")?.split(";")[0]?.trim();
  const size = Number(header(res, "content-length"));
  const isIndex = mediaType?.includes("index") || mediaType?.includes("manifest.list");
  const isImage = mediaType?.includes("image.manifest") || mediaType?.includes("distribution.manifest.v2");
  if (res.status === 200 && digest?.startsWith("sha256:") && isImage && Number.isFinite(size)) {
    if (ref.digest && ref.digest !== digest) throw registryError(RegistryErrorCode.DigestMismatch, `${what}: registry says ${digest}`);
    return { ref: withDigest(ref, digest as Digest), digest: digest as Digest, mediaType: mediaType!, size };
  }
  // An index, or a registry whose HEAD says too little: GET it (by digest when we know it).
  const top = await getManifest(t, res.status === 200 && digest?.startsWith("sha256:") && isIndex ? withDigest(ref, digest as Digest) : ref, opts.signal);
  if (top.kind === "manifest") return { ref: withDigest(ref, top.digest), digest: top.digest, mediaType: top.mediaType, size: top.raw.byteLength };
  const child = choose(top, ref, platform);
  return {
    ref: withDigest(ref, child.digest),
    digest: child.digest,
    mediaType: child.mediaType,
    size: child.size,
    indexDigest: top.digest,
    ...(child.platform ? { platform: normalizePlatform(child.platform) } : {}),
  };
}

async function readBlob(store: BlobStore, digest: Digest): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of (await store.open(digest)) as AsyncIterable<Buffer>) chunks.push(c);
  const b = Buffer.concat(chunks);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Pulls an image into `store`: the manifest (choosing the platform from an index), then the
 * config and layers concurrently. Manifests and the config are kept as the exact bytes
 * received; each is also written to the store (verified) so an OCI layout can be made from it.
 */
export async function pullImage(t: RegistryTransport, ref: Reference, store: BlobStore, opts: PullOptions = {}): Promise<PullResult> {
  const platform = opts.platform ?? hostPlatform();
  const top = await getManifest(t, ref, opts.signal);
  let image: RawManifest & { kind: "manifest" };
  let index: (RawManifest & { kind: "index" }) | undefined;
  let selected: Platform | undefined;
  if (top.kind === "index") {
    index = top;
    const child = choose(top, ref, platform);
    if (child.platform) selected = normalizePlatform(child.platform);
    const m = await getManifest(t, withDigest(ref, child.digest), opts.signal);
    if (m.kind !== "manifest") throw registryError(RegistryErrorCode.ManifestInvalid, `${formatReference(ref)}: nested indexes are not supported`);
    image = m;
  } else {
    image = top;
  }
  const manifest = image.parsed;
  const configDesc = manifest.config;
  const blobs = [configDesc, ...manifest.layers];
  const seen = new Set<string>();
  const unique = blobs.filter((d) => {
    if (seen.has(d.digest)) return false;
    seen.add(d.digest);
    return true;
  });
  await mapLimit(
    unique,
    opts.concurrency ?? 3,
    (d, _i, signal) =>
      downloadBlob(t, ref.path, d, store, {
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        signal,
        ...(opts.retry ? { retry: opts.retry } : {}),
      }),
    opts.signal,
  );
  // Manifests last: a store that has the manifest has everything it names.
  await store.put(image.raw, { digest: image.digest, size: image.raw.byteLength });
  if (index) await store.put(index.raw, { digest: index.digest, size: index.raw.byteLength });
  const configRaw = await readBlob(store, configDesc.digest);
  let configParsed: ImageConfigFile;
  try {
    configParsed = JSON.parse(Buffer.from(configRaw).toString("utf8")) as ImageConfigFile;
  } catch (e) {
    throw registryError(RegistryErrorCode.ManifestInvalid, `config ${configDesc.digest} of ${formatReference(ref)} is not JSON: ${(e as Error).message}`);
  }
  if (!selected && configParsed.os && configParsed.architecture) {
    selected = normalizePlatform({ os: configParsed.os, architecture: configParsed.architecture, ...(configParsed.variant ? { variant: configParsed.variant } : {}) });
  }
  return {
    ref: withDigest(ref, image.digest),
    digest: image.digest,
    mediaType: image.mediaType,
    manifest: { raw: image.raw, parsed: manifest },
    config: { raw: configRaw, parsed: configParsed, descriptor: configDesc },
    layers: manifest.layers,
    ...(selected ? { platform: selected } : {}),
    ...(index ? { indexDigest: index.digest, index: { raw: index.raw, parsed: index.parsed, mediaType: index.mediaType } } : {}),
  };
}

