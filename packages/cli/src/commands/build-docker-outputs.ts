import { createReadStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OutputSpec } from "@strata/engine";
import type { OciImage } from "@strata/oci";
import { dockerOk, type DockerClient } from "./build-docker-client.ts";

/**
 * `--output` for an image that docker built into its daemon: `docker save` gives a
 * docker-archive (config bytes as docker has them, uncompressed layers), which is rewritten
 * with the requested tags, or converted to an OCI archive or layout (gzip layers by default,
 * as the native engine writes them). The config keeps docker's bytes, so the OCI image's
 * config digest is the daemon's image ID.
 */
export async function writeDockerOutputs(client: DockerClient, imageId: string, outputs: readonly OutputSpec[], tags: readonly string[]): Promise<void> {
  if (!outputs.length) return;
  const { readDockerArchive, writeDockerArchive, writeOciLayout } = await import("@strata/oci");
  const dir = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), "strata-docker-save-"));
  try {
    const saved = join(dir, "image.tar");
    await dockerOk(client, ["save", "-o", saved, imageId], "docker save");
    const image = await readDockerArchive(saved);
    for (const out of outputs) {
      if (out.type === "docker") {
        const img = out.compression === "gzip" ? await gzipLayers(image, join(dir, "blobs"), "docker") : image;
        await writeDockerArchive([{ image: img, tags }], { file: out.dest }, { compressedLayers: "keep" });
        continue;
      }
      const img = (out.compression ?? "gzip") === "gzip" ? await gzipLayers(image, join(dir, "blobs"), "oci") : image;
      const ref = tags[0];
      await writeOciLayout([{ image: img, ...(ref ? { ref } : {}) }], out.type === "oci-layout" ? { dir: out.dest } : { file: out.dest });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same image with gzip layers (compressed into a temporary blob store); the config bytes are kept. */
async function gzipLayers(image: OciImage, storeDir: string, format: "oci" | "docker"): Promise<OciImage> {
  const { createManifest, FsBlobStore, gzipBlob, MediaType, sha256Of } = await import("@strata/oci");
  const store = new FsBlobStore(storeDir);
  const layers = [];
  for (const l of image.layers) {
    const z = await gzipBlob(await l.open(), { to: { store } });
    const descriptor = { mediaType: format === "docker" ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip, digest: z.digest, size: z.size };
    layers.push({ descriptor, diffId: l.diffId, path: store.pathOf(z.digest), open: async () => createReadStream(store.pathOf(z.digest)) });
  }
  const config = { mediaType: format === "docker" ? MediaType.DockerConfig : MediaType.OciConfig, digest: sha256Of(image.configBytes), size: image.configBytes.length };
  const manifest = createManifest({ config, layers: layers.map((l) => l.descriptor), format });
  return { ...image, manifestBytes: manifest.bytes, manifestDigest: manifest.digest, manifestMediaType: manifest.mediaType, manifest: manifest.value, layers };
}
