import { DEFAULT_LINUX_PATH, foldConfig, type Digest, type EvalContext, type HistoryEntry, type ImageConfig, type ImageConfigFile, type LayerGraph, type Op, type Platform } from "@strata/graph";
import { assembleImage, imageFromStore, MediaType, validateImage, type OciImage } from "@strata/oci";
import { cacheKey } from "../solver/cache-key.ts";
import type { Store } from "../store/store.ts";
import type { FsState } from "../solver/types.ts";

/**
 * The config a stage on an empty filesystem (scratch) starts from: BuildKit's Dockerfile
 * frontend gives it PATH and a working directory of `/` (docker build writes `"WorkingDir": "/"`).
 */
const SCRATCH_CONFIG: ImageConfig = Object.freeze({ Env: [`PATH=${DEFAULT_LINUX_PATH}`], WorkingDir: "/" });

/**
 * The image config for a built filesystem: the base image's config with the definition's
 * steps folded over it, history entries for every step (empty_layer where no layer was
 * added), every timestamp at SOURCE_DATE_EPOCH so the same inputs give the same digest.
 */
export function imageConfig(graph: LayerGraph, root: FsState, ctx: EvalContext, opts: { platform: Platform; sourceDateEpoch: number; emptyOps: ReadonlySet<Op> }): ImageConfigFile {
  const baseFile = root.base?.configFile;
  const folded = foldConfig(root.base ? root.base.config : SCRATCH_CONFIG, graph.image, ctx);
  const created = new Date(opts.sourceDateEpoch * 1000).toISOString();
  const baseLayers = root.layers.length - graph.image.steps.filter((s) => s.op && !opts.emptyOps.has(s.op)).length;
  const history: HistoryEntry[] = [...baseHistory(baseFile?.history ?? [], baseLayers)];
  graph.image.steps.forEach((step, i) => {
    const h = folded.history[i]!;
    const empty = !step.op || opts.emptyOps.has(step.op);
    history.push({ created, created_by: h.created_by ?? "", comment: "strata", ...(empty ? { empty_layer: true } : {}) });
  });
  const platform = baseFile ? { os: baseFile.os, architecture: baseFile.architecture, ...(baseFile.variant ? { variant: baseFile.variant } : {}) } : opts.platform;
  return {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    created,
    ...(folded.author !== undefined ? { author: folded.author } : baseFile?.author ? { author: baseFile.author } : {}),
    config: folded.config,
    rootfs: { type: "layers", diff_ids: root.layers.map((l) => l.diffId) },
    history,
  };
}

/** A base image's history, padded so its non-empty entries match its layers (some images carry none). */
function baseHistory(history: readonly HistoryEntry[], layers: number): HistoryEntry[] {
  const out = [...history];
  let nonEmpty = out.filter((h) => !h.empty_layer).length;
  while (nonEmpty < layers) {
    out.push({ created_by: "(base image layer)", comment: "strata: the base image recorded no history for this layer" });
    nonEmpty++;
  }
  return out;
}

/**
 * Writes (or finds) the image for a config over a layer chain. A rebuild that produced the
 * same chain and config finds its manifest through the cache and reads no layer.
 */
export async function storeImage(store: Store, root: FsState, config: ImageConfigFile): Promise<OciImage> {
  const key = cacheKey("image-manifest", { root: root.key, config: config as never });
  const known = store.getCache<{ manifest: Digest }>(key);
  if (known && (await store.blobs.has(known.manifest))) return imageFromStore(store.blobs, known.manifest);
  const image = await assembleImage({
    store: store.blobs,
    config,
    layers: root.layers.map((l) => ({ descriptor: { mediaType: MediaType.OciLayer, digest: l.diffId, size: l.size }, diffId: l.diffId })),
    format: "oci",
  });
  // Structure only: every layer blob was hashed as it was written (the store verifies on write).
  await validateImage(image, { layers: false });
  store.putCache(key, { manifest: image.manifestDigest });
  return image;
}
