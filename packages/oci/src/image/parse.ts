import { isDigest, StrataError, type ImageConfigFile } from "@strata/graph";
import type { Descriptor, Index, Manifest } from "../descriptor.ts";

/**
 * Decoding of image JSON that was read from somewhere. The raw bytes stay the source of
 * truth (digests are taken over them); these functions only check the shape enough for
 * the rest of Strata to rely on it, and throw coded errors naming `where` otherwise.
 */

function parseJson(bytes: Uint8Array, what: string, where: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch (e) {
    throw new StrataError("STRATA_IMAGE_BAD_JSON", `${what} in ${where} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new StrataError("STRATA_IMAGE_BAD_JSON", `${what} in ${where} is not a JSON object`);
  return v as Record<string, unknown>;
}

function checkDescriptor(d: unknown, what: string, where: string): Descriptor {
  const o = d as Record<string, unknown> | null;
  if (typeof o !== "object" || o === null || typeof o.mediaType !== "string" || !isDigest(o.digest) || !Number.isSafeInteger(o.size) || (o.size as number) < 0) {
    throw new StrataError("STRATA_IMAGE_BAD_DESCRIPTOR", `${what} in ${where} is not a valid descriptor: ${JSON.stringify(d)?.slice(0, 200)}`, {
      hint: "a descriptor needs mediaType, a sha256 digest and a non-negative size",
    });
  }
  return o as unknown as Descriptor;
}

export function parseManifest(bytes: Uint8Array, where: string): Manifest {
  const m = parseJson(bytes, "manifest", where);
  if (m.schemaVersion !== 2) throw new StrataError("STRATA_IMAGE_BAD_MANIFEST", `manifest in ${where} has schemaVersion ${JSON.stringify(m.schemaVersion)}, expected 2`);
  checkDescriptor(m.config, "config descriptor", where);
  if (!Array.isArray(m.layers)) throw new StrataError("STRATA_IMAGE_BAD_MANIFEST", `manifest in ${where} has no layers array`);
  for (const [i, l] of m.layers.entries()) checkDescriptor(l, `layer ${i}`, where);
  return m as unknown as Manifest;
}

export function parseIndex(bytes: Uint8Array, where: string): Index {
  const m = parseJson(bytes, "index", where);
  if (m.schemaVersion !== 2) throw new StrataError("STRATA_IMAGE_BAD_INDEX", `index in ${where} has schemaVersion ${JSON.stringify(m.schemaVersion)}, expected 2`);
  if (!Array.isArray(m.manifests)) throw new StrataError("STRATA_IMAGE_BAD_INDEX", `index in ${where} has no manifests array`);
  for (const [i, d] of m.manifests.entries()) checkDescriptor(d, `manifest ${i}`, where);
  return m as unknown as Index;
}

export function parseConfig(bytes: Uint8Array, where: string): ImageConfigFile {
  const c = parseJson(bytes, "image config", where);
  const rootfs = c.rootfs as { type?: unknown; diff_ids?: unknown } | undefined;
  if (rootfs?.type !== "layers" || !Array.isArray(rootfs.diff_ids) || !rootfs.diff_ids.every(isDigest)) {
    throw new StrataError("STRATA_IMAGE_BAD_CONFIG", `image config in ${where} has no valid rootfs (type "layers" with sha256 diff_ids)`);
  }
  if (typeof c.os !== "string" || typeof c.architecture !== "string") {
    throw new StrataError("STRATA_IMAGE_BAD_CONFIG", `image config in ${where} lacks os or architecture`);
  }
  return { ...c, config: (c.config ?? {}) as ImageConfigFile["config"] } as unknown as ImageConfigFile;
}

/** Docker's `docker save` manifest.json: one record per image. */
export interface DockerArchiveRecord {
  readonly Config: string;
  readonly RepoTags: readonly string[] | null;
  readonly Layers: readonly string[];
}

export function parseDockerArchiveManifest(bytes: Uint8Array, where: string): DockerArchiveRecord[] {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (e) {
    throw new StrataError("STRATA_ARCHIVE_BAD_MANIFEST", `manifest.json in ${where} is not valid JSON: ${(e as Error).message}`);
  }
  const ok =
    Array.isArray(v) &&
    v.every((r: Record<string, unknown>) => typeof r?.Config === "string" && Array.isArray(r.Layers) && r.Layers.every((l) => typeof l === "string") && (r.RepoTags == null || Array.isArray(r.RepoTags)));
  if (!ok) throw new StrataError("STRATA_ARCHIVE_BAD_MANIFEST", `manifest.json in ${where} is not a docker-archive manifest (an array of {Config, RepoTags, Layers})`);
  return v as DockerArchiveRecord[];
}
