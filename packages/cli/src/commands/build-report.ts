import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join, resolve } from "node:path";
import type { Digest } from "@strata/graph";
import type { OciImage } from "@strata/oci";

/**
 * buildx's `--metadata-file` keys for one image: `containerimage.digest` is the manifest's
 * digest (the registry's, when pushed: pushed layers are compressed, so it is not the
 * store's), `containerimage.config.digest` the image ID, `containerimage.descriptor` the
 * manifest's descriptor, `image.name` the names, comma-separated, as buildx writes them.
 */
export function buildMetadata(image: OciImage, names: readonly string[], pushed?: { digest: Digest; mediaType: string; size: number }): Record<string, unknown> {
  const manifest = pushed ?? { digest: image.manifestDigest, mediaType: image.manifestMediaType, size: image.manifestBytes.length };
  return {
    "containerimage.config.digest": image.manifest.config.digest,
    "containerimage.descriptor": { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size },
    "containerimage.digest": manifest.digest,
    ...(names.length ? { "image.name": names.join(",") } : {}),
  };
}

/** Writes a small file next to its final path, then renames it there (never half-written). */
export function writeFileAtomic(cwd: string, file: string, text: string): void {
  const abs = resolve(cwd, file);
  const tmp = join(dirname(abs), `.${basename(abs)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(tmp, text);
  renameSync(tmp, abs);
}
