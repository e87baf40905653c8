import { createHash } from "node:crypto";
import { isDigest, type Digest } from "@strata/graph";
import { layerCompression, MediaType, type Index, type Manifest } from "@strata/oci";
import { registryError, RegistryErrorCode } from "./errors.ts";
import { header, readAll, type HttpResponse } from "./http.ts";

/** What we ask a registry for: OCI and Docker v2 schema 2, images and indexes. Never schema 1. */
export const MANIFEST_ACCEPT = [MediaType.OciManifest, MediaType.OciIndex, MediaType.DockerManifest, MediaType.DockerManifestList].join(", ");

/** containerd's cap: a manifest larger than this is not a manifest. */
export const MAX_MANIFEST_BYTES = 4 << 20;

export function sha256Of(bytes: Uint8Array): Digest {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}` as Digest;
}

/** A manifest or index exactly as received: the bytes are what the digest names. */
export type RawManifest =
  | { readonly kind: "manifest"; readonly mediaType: string; readonly digest: Digest; readonly raw: Uint8Array; readonly parsed: Manifest }
  | { readonly kind: "index"; readonly mediaType: string; readonly digest: Digest; readonly raw: Uint8Array; readonly parsed: Index };

/**
 * Classifies and parses manifest bytes. The media type comes from the JSON's own
 * `mediaType` when present (it is signed by the digest), else the Content-Type, else the
 * shape (`manifests` → index).
 */
export function parseManifest(raw: Uint8Array, contentType: string | undefined, digest: Digest = sha256Of(raw)): RawManifest {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("utf8")) as Record<string, unknown>;
  } catch (e) {
    throw registryError(RegistryErrorCode.ManifestInvalid, `manifest ${digest} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof json !== "object" || json === null) throw registryError(RegistryErrorCode.ManifestInvalid, `manifest ${digest} is not a JSON object`);
  const ct = contentType?.split(";")[0]?.trim();
  const mediaType =
    typeof json.mediaType === "string" ? json.mediaType : ct && ct !== "application/json" && ct !== "text/plain" ? ct : Array.isArray(json.manifests) ? MediaType.OciIndex : MediaType.OciManifest;
  if (json.schemaVersion === 1 || mediaType.startsWith("application/vnd.docker.distribution.manifest.v1")) {
    throw registryError(RegistryErrorCode.ManifestInvalid, `manifest ${digest} uses Docker's deprecated schema 1`, { hint: "re-push the image with a current Docker or skopeo" });
  }
  if (mediaType === MediaType.OciIndex || mediaType === MediaType.DockerManifestList) {
    if (!Array.isArray(json.manifests)) throw registryError(RegistryErrorCode.ManifestInvalid, `index ${digest} has no manifests array`);
    for (const d of json.manifests) checkDescriptor(d, digest);
    return { kind: "index", mediaType, digest, raw, parsed: json as unknown as Index };
  }
  if (mediaType === MediaType.OciManifest || mediaType === MediaType.DockerManifest) {
    if (!json.config || !Array.isArray(json.layers)) {
      throw registryError(RegistryErrorCode.ManifestInvalid, `manifest ${digest} lacks a config descriptor or layers`);
    }
    for (const d of [json.config, ...json.layers]) checkDescriptor(d, digest);
    checkLayerTypes(json.config as { mediaType: string }, json.layers as { mediaType: string; digest: string }[], digest);
    return { kind: "manifest", mediaType, digest, raw, parsed: json as unknown as Manifest };
  }
  throw registryError(RegistryErrorCode.ManifestInvalid, `manifest ${digest} has unsupported media type ${mediaType}`);
}

/**
 * An image (its config is an image config) is only usable if every layer is a tar in a
 * format we can read: an unknown layer media type is refused when the manifest arrives, not
 * discovered by an extraction that guesses. Artifacts (other config types) are not images.
 */
function checkLayerTypes(config: { mediaType: string }, layers: readonly { mediaType: string; digest: string }[], where: Digest): void {
  if (config.mediaType !== MediaType.OciConfig && config.mediaType !== MediaType.DockerConfig) return;
  for (const l of layers) {
    if (layerCompression(l.mediaType) === undefined) {
      throw registryError(RegistryErrorCode.UnknownMediaType, `manifest ${where} has layer ${l.digest} of unknown media type ${JSON.stringify(l.mediaType)}`, {
        hint: "layers must be OCI or Docker tar layers (uncompressed, gzip or zstd); re-push the image with standard tooling",
      });
    }
  }
}

/**
 * Descriptors name files in the store and paths on the registry, so a digest must be exactly
 * `sha256:<64 hex>` (nothing like `sha256:../../x`) and a size a safe non-negative integer.
 */
function checkDescriptor(d: unknown, where: Digest): void {
  const desc = d as { digest?: unknown; size?: unknown; mediaType?: unknown } | null;
  if (!desc || typeof desc !== "object" || !isDigest(desc.digest) || typeof desc.size !== "number" || !Number.isSafeInteger(desc.size) || desc.size < 0 || typeof desc.mediaType !== "string") {
    throw registryError(RegistryErrorCode.ManifestInvalid, `manifest ${where} has an invalid descriptor ${JSON.stringify(d)?.slice(0, 200)}`, {
      hint: "descriptors need a mediaType, a sha256 digest and a size",
    });
  }
}

/**
 * Reads a manifest response and checks its bytes against what names them: the digest we
 * asked for, and the registry's Docker-Content-Digest header.
 */
export async function readManifestResponse(res: HttpResponse, expected: Digest | undefined, what: string): Promise<RawManifest> {
  const raw = await readAll(res, MAX_MANIFEST_BYTES);
  const digest = sha256Of(raw);
  if (expected && digest !== expected) {
    throw registryError(RegistryErrorCode.DigestMismatch, `${what}: content hashes to ${digest}, not ${expected}`);
  }
  const claimed = header(res, "docker-content-digest");
  if (claimed?.startsWith("sha256:") && claimed !== digest) {
    throw registryError(RegistryErrorCode.DigestMismatch, `${what}: registry says ${claimed} but the content hashes to ${digest}`);
  }
  return parseManifest(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), header(res, "content-type"), digest);
}
