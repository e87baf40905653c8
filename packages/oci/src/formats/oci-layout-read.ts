import { promises as fsp, type Stats } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { digestHex, formatPlatform, platformsEqual, StrataError, type Digest, type Platform } from "@strata/graph";
import type { Descriptor, Index } from "../descriptor.ts";
import { FsBlobStore } from "../fs-blob-store.ts";
import type { BlobReader, OciImage } from "../image/image.ts";
import { parseIndex } from "../image/parse.ts";
import { imageFromStore, readJsonBlob } from "../image/store-image.ts";
import { isIndexMediaType } from "../media-types.ts";
import { TarFileIndex } from "../tar/tar-file-index.ts";
import { REF_NAME_ANNOTATION } from "./oci-layout-write.ts";

export interface ReadLayoutOptions {
  /** Which image: matched against `org.opencontainers.image.ref.name` (or `io.containerd.image.name`). Needed when the layout holds several. */
  readonly ref?: string;
  /** For multi-platform entries; default: this machine's platform (linux/<arch>). */
  readonly platform?: Platform;
}

export interface LayoutEntry {
  readonly ref: string | undefined;
  readonly descriptor: Descriptor;
}

interface OpenedLayout {
  readonly where: string;
  readonly store: BlobReader;
  readonly index: Index;
}

/** The entries of an OCI layout's index.json (directory or tar archive). */
export async function listOciLayout(path: string): Promise<LayoutEntry[]> {
  const layout = await openLayout(path);
  return layout.index.manifests.map((descriptor) => ({ ref: refOf(descriptor), descriptor }));
}

/**
 * Reads one image from an OCI image layout — a directory or an OCI archive (tar) — without
 * unpacking anything: blobs of an archive are streamed from their offsets in the tar.
 */
export async function readOciLayout(path: string, opts: ReadLayoutOptions = {}): Promise<OciImage> {
  const layout = await openLayout(path);
  const candidates = opts.ref === undefined ? layout.index.manifests : layout.index.manifests.filter((d) => refOf(d) === opts.ref || d.annotations?.["io.containerd.image.name"] === opts.ref);
  const refs = layout.index.manifests.map((d) => refOf(d) ?? d.digest).join(", ");
  if (candidates.length === 0) {
    throw new StrataError("STRATA_LAYOUT_REF_NOT_FOUND", `${path} has no image ${opts.ref === undefined ? "" : JSON.stringify(opts.ref)}`.trim(), { hint: `it holds: ${refs || "nothing"}` });
  }
  if (candidates.length > 1) {
    throw new StrataError("STRATA_LAYOUT_AMBIGUOUS", `${path} holds ${candidates.length} images${opts.ref === undefined ? "" : ` named ${JSON.stringify(opts.ref)}`}; choose one with ref`, { hint: `it holds: ${refs}` });
  }
  const chosen = await selectPlatform(layout, candidates[0] as Descriptor, opts.platform ?? hostPlatform());
  return imageFromStore(layout.store, chosen, layout.where);
}

async function selectPlatform(layout: OpenedLayout, d: Descriptor, platform: Platform, depth = 0): Promise<Descriptor> {
  if (!isIndexMediaType(d.mediaType)) return d;
  if (depth > 4) throw new StrataError("STRATA_IMAGE_NESTED_INDEX", `indexes nested too deeply in ${layout.where}`);
  const idx = parseIndex(await readJsonBlob(layout.store, d.digest, layout.where, d.size), layout.where);
  const match = idx.manifests.find((m) => m.platform && platformsEqual(m.platform, platform)) ?? idx.manifests.find((m) => m.platform && m.platform.os === platform.os && m.platform.architecture === platform.architecture);
  if (!match) {
    const have = idx.manifests.map((m) => (m.platform ? formatPlatform(m.platform) : "unknown")).join(", ");
    throw new StrataError("STRATA_IMAGE_NO_PLATFORM", `no image for ${formatPlatform(platform)} in index ${d.digest} of ${layout.where}`, { hint: `available: ${have}` });
  }
  return selectPlatform(layout, match, platform, depth + 1);
}

async function openLayout(path: string): Promise<OpenedLayout> {
  let st: Stats;
  try {
    st = await fsp.stat(path);
  } catch {
    throw new StrataError("STRATA_LAYOUT_NOT_FOUND", `${path} does not exist`);
  }
  if (st.isDirectory()) {
    const layoutBytes = await fsp.readFile(join(path, "oci-layout")).catch(() => undefined);
    checkLayoutFile(layoutBytes, path);
    const indexBytes = await fsp.readFile(join(path, "index.json")).catch(() => undefined);
    if (!indexBytes) throw new StrataError("STRATA_LAYOUT_BAD", `${path} has no index.json`);
    return { where: path, store: new FsBlobStore(join(path, "blobs")), index: parseIndex(indexBytes, join(path, "index.json")) };
  }
  const tar = await TarFileIndex.open(path);
  checkLayoutFile(tar.find("oci-layout") ? await tar.read("oci-layout") : undefined, path);
  if (!tar.find("index.json")) throw new StrataError("STRATA_LAYOUT_BAD", `${path} has no index.json`);
  return { where: path, store: tarBlobs(tar), index: parseIndex(await tar.read("index.json"), `${path}:index.json`) };
}

function checkLayoutFile(bytes: Buffer | undefined, path: string): void {
  if (!bytes) throw new StrataError("STRATA_LAYOUT_BAD", `${path} is not an OCI image layout (no oci-layout file)`);
  let v: { imageLayoutVersion?: unknown };
  try {
    v = JSON.parse(bytes.toString("utf8")) as { imageLayoutVersion?: unknown };
  } catch {
    throw new StrataError("STRATA_LAYOUT_BAD", `${path}: oci-layout is not JSON`);
  }
  if (v.imageLayoutVersion !== "1.0.0") throw new StrataError("STRATA_LAYOUT_BAD", `${path}: unsupported imageLayoutVersion ${JSON.stringify(v.imageLayoutVersion)}`);
}

/** A read-only blob store over `blobs/sha256/*` members of a tar file. */
function tarBlobs(tar: TarFileIndex, prefix = "blobs/sha256/"): BlobReader {
  const member = (d: Digest) => tar.find(`${prefix}${digestHex(d)}`);
  return {
    has: async (d) => member(d) !== undefined,
    size: async (d) => member(d)?.size,
    open: async (d): Promise<Readable> => {
      const m = member(d);
      if (!m) throw new StrataError("STRATA_BLOB_NOT_FOUND", `blob ${d} is not in ${tar.path}`);
      return tar.stream(m);
    },
  };
}

function refOf(d: Descriptor): string | undefined {
  return d.annotations?.[REF_NAME_ANNOTATION];
}

/** This machine's platform in OCI terms. */
export function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64", loong64: "loong64" };
  return { os: "linux", architecture: arch[process.arch] ?? process.arch };
}
