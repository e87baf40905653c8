import { createHash } from "node:crypto";
import { StrataError, digestHex, type Digest } from "@strata/graph";
import { openUncompressed, type ImageLayer, type OciImage } from "../image/image.ts";
import { encodeJson } from "../image/json-blob.ts";
import { layerCompression } from "../media-types.ts";
import { writeArchive, type ArchiveMember, type ArchiveTarget } from "./archive-writer.ts";

export interface DockerArchiveOptions {
  /**
   * Compressed layers: "decompress" (default) stores them as plain tars, which Docker 20.10
   * loads fastest; "keep" stores the blobs as they are (`docker load` decompresses them
   * itself), which saves a decompression pass when writing.
   */
  readonly compressedLayers?: "decompress" | "keep";
}

export interface DockerArchiveImage {
  readonly image: OciImage;
  /** Names `docker load` tags the image with, e.g. `strata/app:dev`. */
  readonly tags?: readonly string[];
}

/**
 * Writes images as a docker-archive (what `docker save` writes and `docker load` reads):
 * `manifest.json` ([{Config, RepoTags, Layers}]), the config as `<config hex>.json` (its
 * raw bytes), and each layer once as an uncompressed `<diffID hex>.tar` — the form Docker
 * 20.10 loads fastest. Compressed layers are decompressed on the way (a first pass
 * measures them and checks their diffID, the tar header needs the size up front).
 */
export async function writeDockerArchive(
  images: readonly DockerArchiveImage[],
  target: ArchiveTarget,
  opts: DockerArchiveOptions = {},
): Promise<{ digest: Digest; size: number }> {
  if (images.length === 0) throw new StrataError("STRATA_ARCHIVE_EMPTY", "a docker-archive needs at least one image");
  const records = images.map(({ image, tags }) => ({
    Config: `${digestHex(image.manifest.config.digest)}.json`,
    RepoTags: tags && tags.length > 0 ? [...tags] : null,
    Layers: image.layers.map((l) => layerName(l, opts)),
  }));
  const members: ArchiveMember[] = [{ name: "manifest.json", bytes: encodeJson(records) }];
  const seen = new Set<string>();
  for (const { image } of images) {
    const name = `${digestHex(image.manifest.config.digest)}.json`;
    if (seen.has(name)) continue;
    seen.add(name);
    members.push({ name, bytes: image.configBytes });
  }
  for (const { image } of images) {
    for (const layer of image.layers) {
      const name = layerName(layer, opts);
      if (seen.has(name)) continue;
      seen.add(name);
      members.push(await layerMember(name, layer, opts));
    }
  }
  return writeArchive(members, target);
}

function layerName(layer: ImageLayer, opts: DockerArchiveOptions): string {
  const compression = layerCompression(layer.descriptor.mediaType);
  if (compression === "none" || opts.compressedLayers !== "keep") return `${digestHex(layer.diffId)}.tar`;
  return `${digestHex(layer.descriptor.digest)}.tar.${compression === "gzip" ? "gz" : "zst"}`;
}

async function layerMember(name: string, layer: ImageLayer, opts: DockerArchiveOptions): Promise<ArchiveMember> {
  if (layerCompression(layer.descriptor.mediaType) === "none" || opts.compressedLayers === "keep") {
    return layer.path !== undefined
      ? { name, size: layer.descriptor.size, path: layer.path }
      : { name, size: layer.descriptor.size, open: () => layer.open() };
  }
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of openUncompressed(layer)) {
    hash.update(chunk);
    size += chunk.length;
  }
  const diffId = `sha256:${hash.digest("hex")}`;
  if (diffId !== layer.diffId) {
    throw new StrataError("STRATA_IMAGE_DIFF_ID", `layer ${layer.descriptor.digest} uncompresses to ${diffId}, but the config says ${layer.diffId}`);
  }
  return { name, size, open: async () => openUncompressed(layer) };
}
