import { createHash } from "node:crypto";
import { StrataError, isDigest, type Diagnostic, type ErrorCode } from "@strata/graph";
import { decompressed, detectCompression } from "../compress/decompress.ts";
import { isImageIndex, type ImageLayer, type OciImage, type OciImageIndex } from "../image/image.ts";
import { sha256Of } from "../image/json-blob.ts";
import { isManifestMediaType, layerCompression, MediaType, mediaTypeFamily } from "../media-types.ts";
import { TarParser } from "../tar/parser.ts";

export interface ValidateOptions {
  /** Read every layer to check its digest, size, diffID and tar structure (default true). */
  readonly layers?: boolean;
}

/**
 * Checks an image's invariants, like go-containerregistry's `validate.Image`, on any
 * implementation of OciImage:
 * - the manifest digest is the digest of the manifest bytes; schemaVersion 2; its
 *   `mediaType` field (if any) agrees with the descriptor's;
 * - the config descriptor matches the config bytes (digest, size) and has a config media
 *   type of the manifest's family; the config has os, architecture and rootfs;
 * - one diffID per layer, equal to each layer's `diffId`; history's non-empty entries, when
 *   there is a history, are as many as the layers;
 * - every layer blob has the descriptor's digest and size, a layer media type of the
 *   manifest's family whose compression matches the bytes, uncompresses to its diffID, and
 *   is a well-formed tar.
 * Returns the problems found (empty when valid); `validateImage` throws them instead.
 */
export async function checkImage(image: OciImage, opts: ValidateOptions = {}): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const problem = (code: ErrorCode, message: string): void => void out.push({ code, severity: "error", message });
  const m = image.manifest;

  if (sha256Of(image.manifestBytes) !== image.manifestDigest) problem("STRATA_IMAGE_MANIFEST_DIGEST", `manifest bytes hash to ${sha256Of(image.manifestBytes)}, not ${image.manifestDigest}`);
  if (m.schemaVersion !== 2) problem("STRATA_IMAGE_MANIFEST_SCHEMA", `manifest schemaVersion is ${String(m.schemaVersion)}, expected 2`);
  if (!isManifestMediaType(image.manifestMediaType)) problem("STRATA_IMAGE_MEDIA_TYPE", `${image.manifestMediaType} is not an image manifest media type`);
  if (m.mediaType !== undefined && m.mediaType !== image.manifestMediaType) problem("STRATA_IMAGE_MEDIA_TYPE", `manifest says mediaType ${m.mediaType} but is described as ${image.manifestMediaType}`);
  const family = mediaTypeFamily(image.manifestMediaType);

  const configType = family === "docker" ? MediaType.DockerConfig : MediaType.OciConfig;
  if (m.config.mediaType !== configType) problem("STRATA_IMAGE_MEDIA_TYPE", `config media type ${m.config.mediaType} in a ${family ?? "unknown"} manifest, expected ${configType}`);
  if (sha256Of(image.configBytes) !== m.config.digest) problem("STRATA_IMAGE_CONFIG_DIGEST", `config bytes hash to ${sha256Of(image.configBytes)}, the manifest says ${m.config.digest}`);
  if (image.configBytes.length !== m.config.size) problem("STRATA_IMAGE_CONFIG_SIZE", `config has ${image.configBytes.length} bytes, the manifest says ${m.config.size}`);

  const c = image.config;
  if (!c.os || !c.architecture) problem("STRATA_IMAGE_CONFIG_SCHEMA", "config lacks os or architecture");
  const diffIds = c.rootfs?.diff_ids ?? [];
  if (c.rootfs?.type !== "layers") problem("STRATA_IMAGE_CONFIG_SCHEMA", `config rootfs.type is ${JSON.stringify(c.rootfs?.type)}, expected "layers"`);
  if (!diffIds.every(isDigest)) problem("STRATA_IMAGE_CONFIG_SCHEMA", "config rootfs.diff_ids has entries that are not sha256 digests");
  if (diffIds.length !== m.layers.length) problem("STRATA_IMAGE_DIFF_ID_COUNT", `${m.layers.length} layers but ${diffIds.length} diff_ids`);
  if (image.layers.length !== m.layers.length) problem("STRATA_IMAGE_LAYER_COUNT", `the image exposes ${image.layers.length} layers, its manifest lists ${m.layers.length}`);
  if (c.history) {
    const nonEmpty = c.history.filter((h) => !h.empty_layer).length;
    if (nonEmpty !== m.layers.length) problem("STRATA_IMAGE_HISTORY_COUNT", `history has ${nonEmpty} non-empty entries for ${m.layers.length} layers`);
  }

  for (let i = 0; i < image.layers.length; i++) {
    const layer = image.layers[i] as ImageLayer;
    const listed = m.layers[i];
    const where = `layer ${i} (${layer.descriptor.digest})`;
    if (listed && (listed.digest !== layer.descriptor.digest || listed.size !== layer.descriptor.size || listed.mediaType !== layer.descriptor.mediaType)) {
      problem("STRATA_IMAGE_LAYER_DESCRIPTOR", `${where}: descriptor differs from the manifest's`);
    }
    if (diffIds[i] !== undefined && diffIds[i] !== layer.diffId) problem("STRATA_IMAGE_DIFF_ID", `${where}: diffId ${layer.diffId} differs from the config's ${diffIds[i]}`);
    const compression = layerCompression(layer.descriptor.mediaType);
    if (compression === undefined) problem("STRATA_IMAGE_MEDIA_TYPE", `${where}: ${layer.descriptor.mediaType} is not a layer media type`);
    else if (family && mediaTypeFamily(layer.descriptor.mediaType) !== family) problem("STRATA_IMAGE_MEDIA_TYPE", `${where}: ${layer.descriptor.mediaType} in a ${family} manifest`);
    if (opts.layers === false) continue;
    try {
      const got = await measureLayer(layer);
      if (got.digest !== layer.descriptor.digest) problem("STRATA_IMAGE_LAYER_DIGEST", `${where}: blob hashes to ${got.digest}`);
      if (got.size !== layer.descriptor.size) problem("STRATA_IMAGE_LAYER_SIZE", `${where}: blob has ${got.size} bytes, the descriptor says ${layer.descriptor.size}`);
      if (got.diffId !== diffIds[i]) problem("STRATA_IMAGE_DIFF_ID", `${where}: uncompresses to ${got.diffId}, the config says ${diffIds[i]}`);
      if (compression !== undefined && got.compression !== compression) problem("STRATA_IMAGE_MEDIA_TYPE", `${where}: media type says ${compression} but the bytes are ${got.compression}`);
    } catch (e) {
      problem("STRATA_IMAGE_LAYER_UNREADABLE", `${where}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** Throws STRATA_IMAGE_INVALID (with every problem as a diagnostic) unless `checkImage` finds none. */
export async function validateImage(image: OciImage | OciImageIndex, opts: ValidateOptions = {}): Promise<void> {
  const problems: Diagnostic[] = [];
  if (isImageIndex(image)) {
    if (sha256Of(image.indexBytes) !== image.indexDigest) problems.push({ code: "STRATA_IMAGE_INDEX_DIGEST", severity: "error", message: `index bytes do not hash to ${image.indexDigest}` });
    if (image.index.manifests.length !== image.images.length) {
      problems.push({ code: "STRATA_IMAGE_INDEX_COUNT", severity: "error", message: `index lists ${image.index.manifests.length} manifests, ${image.images.length} images given` });
    }
    image.index.manifests.forEach((d, i) => {
      const img = image.images[i];
      if (img && (d.digest !== img.manifestDigest || d.size !== img.manifestBytes.length || d.mediaType !== img.manifestMediaType)) {
        problems.push({ code: "STRATA_IMAGE_INDEX_DESCRIPTOR", severity: "error", message: `index entry ${i} does not describe manifest ${img.manifestDigest}` });
      }
    });
    for (const img of image.images) problems.push(...(await checkImage(img, opts)));
  } else {
    problems.push(...(await checkImage(image, opts)));
  }
  if (problems.length === 0) return;
  throw new StrataError("STRATA_IMAGE_INVALID", `invalid image: ${problems.map((p) => `${p.code}: ${p.message}`).join("; ")}`, {
    diagnostics: problems,
    hint: "the image's blobs do not agree with its manifest and config; rebuild or re-pull it",
  });
}

/** Digest and size of the blob, digest of its uncompressed form, and a full tar parse, in one pass. */
async function measureLayer(layer: ImageLayer): Promise<{ digest: string; size: number; diffId: string; compression: string }> {
  const outer = createHash("sha256");
  const inner = createHash("sha256");
  let size = 0;
  let head: Buffer | undefined;
  async function* tap(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const c of src) {
      head ??= Buffer.from(c.subarray(0, 4));
      outer.update(c);
      size += c.length;
      yield c;
    }
  }
  const parser = new TarParser({ entry() {}, data() {}, entryEnd() {} });
  for await (const u of decompressed(tap((await layer.open()) as AsyncIterable<Buffer>))) {
    inner.update(u);
    if (!parser.ended) parser.write(u);
  }
  parser.finish();
  return { digest: `sha256:${outer.digest("hex")}`, size, diffId: `sha256:${inner.digest("hex")}`, compression: detectCompression(head ?? Buffer.alloc(0)) };
}
