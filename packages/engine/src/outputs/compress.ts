import { createReadStream } from "node:fs";
import type { Digest } from "@strata/graph";
import { assembleImage, gzipBlob, MediaType, type ImageFormat, type OciImage } from "@strata/oci";
import { cacheKey } from "../solver/cache-key.ts";
import type { Store } from "../store/store.ts";

export type Compression = "gzip" | "uncompressed";

/**
 * The image with its layers compressed, for exports and pushes. Each layer is compressed once
 * (on worker threads) and the result is cached by diffID, so a second export or a re-push
 * does not compress again. The manifest (and so the digest) differs from the local
 * uncompressed one, as it does for every registry image.
 */
export async function withCompression(store: Store, image: OciImage, compression: Compression, format: ImageFormat = "oci"): Promise<OciImage> {
  if (compression === "uncompressed" && format === "oci") return image;
  const layers: Array<{ descriptor: { mediaType: string; digest: Digest; size: number }; diffId: Digest }> = [];
  for (const l of image.layers) {
    if (compression === "uncompressed") {
      layers.push({ descriptor: { mediaType: format === "docker" ? MediaType.DockerLayer : MediaType.OciLayer, digest: l.diffId, size: l.descriptor.size }, diffId: l.diffId });
      continue;
    }
    const key = cacheKey("gzip", { diffId: l.diffId });
    let rec = store.getCache<{ digest: Digest; size: number }>(key);
    if (!rec || !(await store.blobs.has(rec.digest))) {
      const out = await gzipBlob(createReadStream(store.blobs.pathOf(l.diffId), { highWaterMark: 1 << 20 }), { to: { store: store.blobs } });
      rec = { digest: out.digest, size: out.size };
      store.putCache(key, rec);
    }
    layers.push({ descriptor: { mediaType: format === "docker" ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip, digest: rec.digest, size: rec.size }, diffId: l.diffId });
  }
  const { rootfs: _r, ...config } = image.config;
  return assembleImage({ store: store.blobs, config, layers, format });
}
