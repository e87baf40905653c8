import { randomBytes } from "node:crypto";
import { constants, copyFileSync, existsSync, promises as fsp, readFileSync } from "node:fs";
import { join } from "node:path";
import { StrataError, digestHex, type Digest } from "@strata/graph";
import type { Descriptor, Index } from "../descriptor.ts";
import { FsBlobStore } from "../fs-blob-store.ts";
import { isImageIndex, manifestDescriptor, type ImageLayer, type OciImage, type OciImageIndex } from "../image/image.ts";
import { encodeJson } from "../image/json-blob.ts";
import { parseIndex } from "../image/parse.ts";
import { MediaType } from "../media-types.ts";
import { writeArchive, type ArchiveMember, type ArchiveTarget } from "./archive-writer.ts";

export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
const OCI_LAYOUT_FILE = { imageLayoutVersion: "1.0.0" } as const;

/** An OCI image layout directory, or an OCI archive (the same layout as a tar file or stream). */
export type LayoutTarget = { readonly dir: string } | ArchiveTarget;

export interface LayoutImage {
  readonly image: OciImage | OciImageIndex;
  /** Stored as the `org.opencontainers.image.ref.name` annotation (e.g. `latest` or `app:1.0`). */
  readonly ref?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface WriteLayoutOptions {
  /**
   * Directory layouts only: hard-link layer blobs that are local files instead of copying
   * them (fast, but the layout then shares inodes with the source store). Default false.
   */
  readonly hardlink?: boolean;
}

type Blob = { readonly digest: Digest; readonly size: number } & ({ readonly bytes: Uint8Array } | { readonly layer: ImageLayer });

/**
 * Writes images (or indexes) as an OCI image layout: `oci-layout`, `index.json` (one
 * descriptor per image with its ref annotation) and `blobs/sha256/<hex>`. Into a directory,
 * existing content is kept and an existing entry with the same ref is replaced (what
 * `skopeo copy … oci:dir:ref` does); as a tar, the archive holds exactly these images.
 * Returns the top-level index written.
 */
export async function writeOciLayout(images: readonly LayoutImage[], target: LayoutTarget, opts: WriteLayoutOptions = {}): Promise<Index> {
  const blobs = new Map<Digest, Blob>();
  const add = (b: Blob): void => void (blobs.has(b.digest) || blobs.set(b.digest, b));
  const addImage = (img: OciImage): void => {
    add({ digest: img.manifestDigest, size: img.manifestBytes.length, bytes: img.manifestBytes });
    add({ digest: img.manifest.config.digest, size: img.configBytes.length, bytes: img.configBytes });
    for (const layer of img.layers) add({ digest: layer.descriptor.digest, size: layer.descriptor.size, layer });
  };
  const descriptors: Descriptor[] = [];
  for (const entry of images) {
    const annotations = { ...entry.annotations, ...(entry.ref !== undefined ? { [REF_NAME_ANNOTATION]: entry.ref } : {}) };
    const hasAnnotations = Object.keys(annotations).length > 0;
    if (isImageIndex(entry.image)) {
      const idx = entry.image;
      add({ digest: idx.indexDigest, size: idx.indexBytes.length, bytes: idx.indexBytes });
      idx.images.forEach(addImage);
      descriptors.push({ mediaType: idx.index.mediaType ?? MediaType.OciIndex, digest: idx.indexDigest, size: idx.indexBytes.length, ...(hasAnnotations ? { annotations } : {}) });
    } else {
      addImage(entry.image);
      descriptors.push({ ...manifestDescriptor(entry.image), ...(hasAnnotations ? { annotations } : {}) });
    }
  }
  if ("dir" in target) return writeLayoutDir(target.dir, [...blobs.values()], descriptors, opts);
  const index: Index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: descriptors };
  const members: ArchiveMember[] = [
    { name: "oci-layout", bytes: encodeJson(OCI_LAYOUT_FILE) },
    { name: "index.json", bytes: encodeJson(index) },
    { name: "blobs", dir: true },
    { name: "blobs/sha256", dir: true },
  ];
  for (const b of [...blobs.values()].sort((x, y) => (x.digest < y.digest ? -1 : 1))) {
    const name = `blobs/sha256/${digestHex(b.digest)}`;
    if ("bytes" in b) members.push({ name, bytes: b.bytes });
    else if (b.layer.path !== undefined) members.push({ name, size: b.size, path: b.layer.path });
    else {
      const layer = b.layer;
      members.push({ name, size: b.size, open: () => layer.open() });
    }
  }
  await writeArchive(members, target);
  return index;
}

async function writeLayoutDir(dir: string, blobs: readonly Blob[], descriptors: readonly Descriptor[], opts: WriteLayoutOptions): Promise<Index> {
  await fsp.mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  const layoutFile = join(dir, "oci-layout");
  if (existsSync(layoutFile)) {
    const v = JSON.parse(readFileSync(layoutFile, "utf8")) as { imageLayoutVersion?: string };
    if (v.imageLayoutVersion !== "1.0.0") throw new StrataError("STRATA_LAYOUT_BAD", `${dir} is an OCI layout of unsupported version ${JSON.stringify(v.imageLayoutVersion)}`);
  } else {
    await atomicWrite(layoutFile, encodeJson(OCI_LAYOUT_FILE));
  }
  const store = new FsBlobStore(join(dir, "blobs"));
  try {
    for (const b of blobs) {
      if ((await store.size(b.digest)) === b.size) continue;
      if ("bytes" in b) await store.put(b.bytes, { digest: b.digest, size: b.size });
      else await copyLayer(store, b.layer, opts);
    }
  } finally {
    await store.removeTempDir();
  }
  // Merge with an existing index.json: entries with a ref we write are replaced.
  const indexFile = join(dir, "index.json");
  const newRefs = new Set(descriptors.map((d) => d.annotations?.[REF_NAME_ANNOTATION]).filter((r) => r !== undefined));
  const kept = existsSync(indexFile)
    ? parseIndex(readFileSync(indexFile), indexFile).manifests.filter((d) => {
        const ref = d.annotations?.[REF_NAME_ANNOTATION];
        return ref === undefined ? !descriptors.some((n) => n.digest === d.digest && n.annotations?.[REF_NAME_ANNOTATION] === undefined) : !newRefs.has(ref);
      })
    : [];
  const index: Index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [...kept, ...descriptors] };
  await atomicWrite(indexFile, encodeJson(index));
  return index;
}

async function copyLayer(store: FsBlobStore, layer: ImageLayer, opts: WriteLayoutOptions): Promise<void> {
  const { digest, size } = layer.descriptor;
  if (layer.path !== undefined) {
    const tmp = await store.tempPath();
    if (opts.hardlink) {
      try {
        await fsp.link(layer.path, tmp);
        await store.adopt(tmp, digest, size);
        return;
      } catch {
        // another file system: copy instead
      }
    }
    // A local file from a content-addressed store: copy it (reflink where the fs can) and trust its name.
    copyFileSync(layer.path, tmp, constants.COPYFILE_FICLONE);
    const st = await fsp.stat(tmp);
    if (st.size !== size) {
      await fsp.rm(tmp, { force: true });
      throw new StrataError("STRATA_SIZE_MISMATCH", `layer ${digest} at ${layer.path} has ${st.size} bytes, expected ${size}`);
    }
    await store.adopt(tmp, digest, size);
    return;
  }
  await store.put(await layer.open(), { digest, size });
}

async function atomicWrite(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`;
  await fsp.writeFile(tmp, bytes);
  await fsp.rename(tmp, path);
}
