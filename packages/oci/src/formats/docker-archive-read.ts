import { createHash } from "node:crypto";
import { StrataError, type Digest } from "@strata/graph";
import { detectCompression } from "../compress/decompress.ts";
import type { Descriptor } from "../descriptor.ts";
import type { ImageLayer, OciImage } from "../image/image.ts";
import { createManifest, sha256Of } from "../image/json-blob.ts";
import { parseConfig, parseDockerArchiveManifest, type DockerArchiveRecord } from "../image/parse.ts";
import { MediaType } from "../media-types.ts";
import { TarFileIndex, type TarMember } from "../tar/tar-file-index.ts";

export interface ReadDockerArchiveOptions {
  /** Which image, by one of its RepoTags; needed when the archive holds several. */
  readonly tag?: string;
  /** Or by position in manifest.json. */
  readonly index?: number;
}

/** The images of a docker-archive: their tags and config file names. */
export async function listDockerArchive(path: string): Promise<{ readonly tags: readonly string[]; readonly config: string }[]> {
  const tar = await TarFileIndex.open(path);
  return parseDockerArchiveManifest(await tar.read("manifest.json"), path).map((r) => ({ tags: r.RepoTags ?? [], config: r.Config }));
}

/**
 * Reads one image of a docker-archive (`docker save` output, or skopeo's docker-archive:)
 * as an OciImage, streaming layers from their offsets in the tar. A docker-archive has no
 * registry manifest, so Strata authors one (OCI media types, canonical bytes); the config
 * keeps its raw bytes. Uncompressed layers (Docker's own format) take the config's diffID
 * as their digest — `validateImage` or any digest-checked copy verifies it; compressed ones
 * are hashed here.
 */
export async function readDockerArchive(path: string, opts: ReadDockerArchiveOptions = {}): Promise<OciImage> {
  const tar = await TarFileIndex.open(path);
  const records = parseDockerArchiveManifest(await tar.read("manifest.json"), path);
  const record = pick(records, opts, path);
  const configBytes = await tar.read(record.Config);
  const config = parseConfig(configBytes, `${path}:${record.Config}`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== record.Layers.length) {
    throw new StrataError("STRATA_IMAGE_DIFF_ID_COUNT", `${path}: image lists ${record.Layers.length} layers but its config has ${diffIds.length} diff_ids`);
  }
  const layers: ImageLayer[] = [];
  for (let i = 0; i < record.Layers.length; i++) {
    const member = tar.get(record.Layers[i] as string);
    const descriptor = await describeLayer(tar, member, diffIds[i] as Digest);
    layers.push({ descriptor, diffId: diffIds[i] as Digest, open: async () => tar.stream(member) });
  }
  const manifest = createManifest({ config: { mediaType: MediaType.OciConfig, digest: sha256Of(configBytes), size: configBytes.length }, layers: layers.map((l) => l.descriptor) });
  return {
    manifestBytes: manifest.bytes,
    manifestDigest: manifest.digest,
    manifestMediaType: manifest.mediaType,
    manifest: manifest.value,
    configBytes,
    config,
    layers,
  };
}

function pick(records: readonly DockerArchiveRecord[], opts: ReadDockerArchiveOptions, path: string): DockerArchiveRecord {
  const all = records.map((r, i) => (r.RepoTags ?? []).join(" ") || `#${i}`).join(", ");
  if (opts.tag !== undefined) {
    const r = records.find((x) => x.RepoTags?.includes(opts.tag as string));
    if (!r) throw new StrataError("STRATA_ARCHIVE_TAG_NOT_FOUND", `${path} has no image tagged ${JSON.stringify(opts.tag)}`, { hint: `it holds: ${all}` });
    return r;
  }
  if (opts.index !== undefined) {
    const r = records[opts.index];
    if (!r) throw new StrataError("STRATA_ARCHIVE_TAG_NOT_FOUND", `${path} has no image #${opts.index}`, { hint: `it holds: ${all}` });
    return r;
  }
  if (records.length !== 1) throw new StrataError("STRATA_ARCHIVE_AMBIGUOUS", `${path} holds ${records.length} images; choose one by tag`, { hint: `it holds: ${all}` });
  return records[0] as DockerArchiveRecord;
}

async function describeLayer(tar: TarFileIndex, member: TarMember, diffId: Digest): Promise<Descriptor> {
  const head = Buffer.alloc(0);
  const chunks: Buffer[] = [head];
  for await (const c of tar.stream({ ...member, size: Math.min(member.size, 4) })) chunks.push(c as Buffer);
  const kind = detectCompression(Buffer.concat(chunks));
  if (kind === "none") return { mediaType: MediaType.OciLayer, digest: diffId, size: member.size };
  const hash = createHash("sha256");
  for await (const c of tar.stream(member)) hash.update(c as Buffer);
  return { mediaType: kind === "gzip" ? MediaType.OciLayerGzip : MediaType.OciLayerZstd, digest: `sha256:${hash.digest("hex")}` as Digest, size: member.size };
}
