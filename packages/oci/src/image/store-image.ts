import { StrataError, type Digest, type ImageConfigFile } from "@strata/graph";
import type { BlobStore } from "../blob-store.ts";
import type { Descriptor } from "../descriptor.ts";
import { isIndexMediaType, MediaType } from "../media-types.ts";
import type { BlobReader, ImageLayer, OciImage, OciImageIndex } from "./image.ts";
import { manifestDescriptor } from "./image.ts";
import { createConfig, createIndex, createManifest, sha256Of, type ImageFormat } from "./json-blob.ts";
import { parseConfig, parseIndex, parseManifest } from "./parse.ts";

/** Manifests, indexes and configs larger than this are refused (a memory guard: real ones are kilobytes). */
const MAX_JSON_BLOB = 8 << 20;

/** Reads a small blob whole and checks it against its digest (and size, when known). */
export async function readJsonBlob(store: BlobReader, digest: Digest, where: string, size?: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of await store.open(digest)) {
    total += (c as Buffer).length;
    if (total > MAX_JSON_BLOB) throw new StrataError("STRATA_IMAGE_BLOB_TOO_LARGE", `blob ${digest} in ${where} is larger than ${MAX_JSON_BLOB} bytes`);
    chunks.push(c as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  const got = sha256Of(bytes);
  if (got !== digest) throw new StrataError("STRATA_DIGEST_MISMATCH", `blob ${digest} in ${where} has digest ${got}`);
  if (size !== undefined && size !== bytes.length) throw new StrataError("STRATA_SIZE_MISMATCH", `blob ${digest} in ${where} has ${bytes.length} bytes, expected ${size}`);
  return bytes;
}

/**
 * An image whose blobs are in `store`, starting from its manifest (a descriptor, or a digest
 * with the media type taken from the manifest's own field). Manifest and config are read and
 * verified now; layers are opened on demand.
 */
export async function imageFromStore(store: BlobReader, manifest: Descriptor | Digest, where = "the blob store"): Promise<OciImage> {
  const digest = typeof manifest === "string" ? manifest : manifest.digest;
  const manifestBytes = await readJsonBlob(store, digest, where, typeof manifest === "string" ? undefined : manifest.size);
  const m = parseManifest(manifestBytes, where);
  const configBytes = await readJsonBlob(store, m.config.digest, where, m.config.size);
  const config = parseConfig(configBytes, where);
  const mediaType = (typeof manifest === "string" ? undefined : manifest.mediaType) ?? m.mediaType ?? MediaType.OciManifest;
  return {
    manifestBytes,
    manifestDigest: digest,
    manifestMediaType: mediaType,
    manifest: m,
    configBytes,
    config,
    layers: layersOf(store, m.layers, config, where),
  };
}

function layersOf(store: BlobReader, descriptors: readonly Descriptor[], config: ImageConfigFile, where: string): ImageLayer[] {
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== descriptors.length) {
    throw new StrataError("STRATA_IMAGE_DIFF_ID_COUNT", `image in ${where} lists ${descriptors.length} layers but its config has ${diffIds.length} diff_ids`);
  }
  return descriptors.map((descriptor, i) => {
    const path = store.pathOf?.(descriptor.digest);
    return {
      descriptor,
      diffId: diffIds[i] as Digest,
      open: () => store.open(descriptor.digest),
      ...(path !== undefined ? { path } : {}),
    };
  });
}

/** An index (and its images) whose blobs are in `store`. */
export async function indexFromStore(store: BlobReader, index: Descriptor | Digest, where = "the blob store"): Promise<OciImageIndex> {
  const digest = typeof index === "string" ? index : index.digest;
  const indexBytes = await readJsonBlob(store, digest, where, typeof index === "string" ? undefined : index.size);
  const idx = parseIndex(indexBytes, where);
  const images: OciImage[] = [];
  for (const d of idx.manifests) {
    if (isIndexMediaType(d.mediaType)) throw new StrataError("STRATA_IMAGE_NESTED_INDEX", `index ${digest} in ${where} nests another index; not supported`);
    images.push(await imageFromStore(store, d, where));
  }
  return { indexBytes, indexDigest: digest, index: idx, images };
}

export interface AssembleImageOptions {
  /** Receives the config and manifest blobs; must already hold the layers. */
  readonly store: BlobStore;
  /** The config; `rootfs` is filled in from the layers (and must match them if given). */
  readonly config: Omit<ImageConfigFile, "rootfs"> & { readonly rootfs?: ImageConfigFile["rootfs"] };
  readonly layers: readonly { readonly descriptor: Descriptor; readonly diffId: Digest }[];
  /** Default "oci"; "docker" writes Docker v2 schema 2 media types. */
  readonly format?: ImageFormat;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Writes the config and manifest of an image made of already-stored layers, and returns it. */
export async function assembleImage(opts: AssembleImageOptions): Promise<OciImage> {
  const format = opts.format ?? "oci";
  const diffIds = opts.layers.map((l) => l.diffId);
  if (opts.config.rootfs && (opts.config.rootfs.diff_ids.length !== diffIds.length || opts.config.rootfs.diff_ids.some((d, i) => d !== diffIds[i]))) {
    throw new StrataError("STRATA_IMAGE_DIFF_ID_MISMATCH", "the config's rootfs.diff_ids do not match the layers being assembled");
  }
  for (const l of opts.layers) {
    if (!(await opts.store.has(l.descriptor.digest))) throw new StrataError("STRATA_BLOB_NOT_FOUND", `layer ${l.descriptor.digest} is not in the store`);
  }
  const config = createConfig({ ...opts.config, rootfs: { type: "layers", diff_ids: diffIds } }, format);
  const manifest = createManifest({
    config: config.descriptor,
    layers: opts.layers.map((l) => ({ ...l.descriptor, mediaType: layerMediaType(l.descriptor.mediaType, format) })),
    format,
    ...(opts.annotations ? { annotations: opts.annotations } : {}),
  });
  await opts.store.put(config.bytes, { digest: config.digest, size: config.bytes.length });
  await opts.store.put(manifest.bytes, { digest: manifest.digest, size: manifest.bytes.length });
  return imageFromStore(opts.store, manifest.descriptor);
}

/**
 * Copies an image's blobs (layers, config, manifest — raw bytes) into `store`, verifying
 * every digest and size on the way (so a docker-archive whose layers were described from
 * its config is checked here), and returns the image as read from the store. Blobs already
 * present are skipped. This is how a base image from an OCI layout or a `docker save`
 * archive enters the build store.
 */
export async function copyImageToStore(image: OciImage, store: BlobStore): Promise<OciImage> {
  for (const layer of image.layers) {
    const { digest, size } = layer.descriptor;
    if ((await store.size(digest)) === size) continue;
    await store.put(await layer.open(), { digest, size });
  }
  await store.put(image.configBytes, { digest: image.manifest.config.digest, size: image.manifest.config.size });
  await store.put(image.manifestBytes, { digest: image.manifestDigest, size: image.manifestBytes.length });
  return imageFromStore(store, { mediaType: image.manifestMediaType, digest: image.manifestDigest, size: image.manifestBytes.length });
}

/** Writes an index over images whose blobs are all in `store`. */
export async function assembleIndex(
  store: BlobStore,
  images: readonly OciImage[],
  opts: { readonly format?: ImageFormat; readonly annotations?: Readonly<Record<string, string>> } = {},
): Promise<OciImageIndex> {
  const index = createIndex({ manifests: images.map(manifestDescriptor), ...opts });
  await store.put(index.bytes, { digest: index.digest, size: index.bytes.length });
  return { indexBytes: index.bytes, indexDigest: index.digest, index: index.value, images };
}

function layerMediaType(mt: string, format: ImageFormat): string {
  const toDocker: Record<string, string> = { [MediaType.OciLayer]: MediaType.DockerLayer, [MediaType.OciLayerGzip]: MediaType.DockerLayerGzip };
  const toOci: Record<string, string> = { [MediaType.DockerLayer]: MediaType.OciLayer, [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip };
  return (format === "docker" ? toDocker[mt] : toOci[mt]) ?? mt;
}
