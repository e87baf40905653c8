import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { Digest } from "@strata/graph";
import { decompressed, MediaType, type OciImage } from "@strata/oci";
import { cacheKey } from "../solver/cache-key.ts";
import type { Store } from "../store/store.ts";

/**
 * A base image's layers were pulled compressed; the build keeps them uncompressed (by diffID).
 * Pushing the built image would compress them again — with other bytes than the registry's,
 * so every base layer would be uploaded anew. Instead, the pulled blob is remembered as a
 * candidate for its diffID, and a push adopts it once it has been checked to decompress to
 * exactly that diffID: then the base layers keep their registry digests (a HEAD finds them, or
 * they are mounted from the base's repository) and are never compressed at all.
 */
interface Candidate {
  readonly digest: Digest;
  readonly size: number;
  /** `domain/path` of repositories known to hold the blob. */
  readonly repositories: readonly string[];
}

const GZIP = new Set<string>([MediaType.OciLayerGzip, MediaType.DockerLayerGzip]);

/** Records a pulled image's gzip layers as candidates for their diffIDs (cheap: JSON writes). */
export function recordBaseLayers(store: Pick<Store, "getCache" | "putCache">, image: Pick<OciImage, "layers">, repository: string): void {
  for (const l of image.layers) {
    if (!GZIP.has(l.descriptor.mediaType)) continue;
    const key = cacheKey("gzip-candidate", { diffId: l.diffId });
    const had = store.getCache<Candidate>(key);
    if (had?.digest === l.descriptor.digest && had.repositories.includes(repository)) continue;
    const repositories = had?.digest === l.descriptor.digest ? [...had.repositories, repository] : [repository];
    store.putCache(key, { digest: l.descriptor.digest, size: l.descriptor.size, repositories } satisfies Candidate);
  }
}

async function decompressesTo(path: string, diffId: Digest): Promise<boolean> {
  const h = createHash("sha256");
  try {
    for await (const chunk of decompressed(createReadStream(path, { highWaterMark: 1 << 20 }))) h.update(chunk);
  } catch {
    return false;
  }
  return `sha256:${h.digest("hex")}` === diffId;
}

/**
 * Before a push: adopts verified candidates as the compressed form of their diffIDs (the
 * record `withCompression` reads), and says which repositories hold each compressed blob (for
 * cross-repository mounts). Layers without a candidate are left to `withCompression`.
 */
export async function adoptBaseLayerBlobs(store: Store, image: Pick<OciImage, "layers">): Promise<Map<Digest, readonly string[]>> {
  const sources = new Map<Digest, readonly string[]>();
  for (const l of image.layers) {
    const candidate = store.getCache<Candidate>(cacheKey("gzip-candidate", { diffId: l.diffId }));
    if (!candidate || (await store.blobs.size(candidate.digest)) !== candidate.size) continue;
    const gzipKey = cacheKey("gzip", { diffId: l.diffId });
    const current = store.getCache<{ digest: Digest; size: number }>(gzipKey);
    if (current?.digest !== candidate.digest) {
      if (!(await decompressesTo(store.blobs.pathOf(candidate.digest), l.diffId))) continue;
      store.putCache(gzipKey, { digest: candidate.digest, size: candidate.size });
    }
    sources.set(candidate.digest, candidate.repositories);
  }
  return sources;
}
