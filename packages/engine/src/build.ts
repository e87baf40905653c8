import { hostname } from "node:os";
import { createGraph, hasSelect, resolveSelects, StrataError, type LayerGraph } from "@strata/graph";
import type { OciImage } from "@strata/oci";
import { imageConfig, storeImage } from "./image/assemble.ts";
import { Solver } from "./solver/solver.ts";
import type { SolveOptions } from "./solver/options.ts";
import { Store } from "./store/store.ts";
import { writeJsonAtomic } from "./store/atomic.ts";
import { holdBuildLock } from "./store/locks.ts";

export interface BuildResult {
  readonly image: OciImage;
  /** Steps served from the cache, and built. */
  readonly cached: number;
  readonly built: number;
}

/**
 * Builds a graph's image natively into the store: solve the root filesystem, fold the config,
 * write config and manifest (validated), and tag it. Outputs (layouts, archives, docker load,
 * push) read the result from the store.
 */
export async function buildImage(store: Store, target: LayerGraph, opts: SolveOptions & { readonly tags?: readonly string[] }): Promise<BuildResult> {
  const release = holdBuildLock(store);
  const solver = new Solver(store, opts);
  let graph = target;
  try {
    // A stage chosen by a build arg (`FROM base-$TARGETOS`) becomes the stage this build's args name.
    if (hasSelect(target.image)) graph = createGraph(resolveSelects(target.image, solver.evalCtx));
  } catch (e) {
    release();
    throw e;
  }
  solver.explain?.begin(graph);
  opts.progress({ type: "build-start", at: solver.now(), target: opts.explain?.target ?? graph.digest, steps: graph.nodes.size });
  let image: OciImage;
  try {
    const root = await solver.fs(graph.image.rootfs, "the image's root filesystem");
    const config = imageConfig(graph, root, solver.evalCtx, { platform: opts.platform, sourceDateEpoch: opts.sourceDateEpoch, emptyOps: solver.emptyOps });
    image = await storeImage(store, root, config);
  } catch (e) {
    throw e instanceof Error ? e : new StrataError("STRATA_BUILD_FAILED", String(e));
  } finally {
    solver.explain?.save();
    // Remember the content digests computed this time, so the next build reads no unchanged file.
    for (const c of solver.contexts.values()) await c.then((r) => r.snapshot.saveStatCache()).catch(() => {});
    release();
  }
  for (const tag of opts.tags ?? []) writeJsonAtomic(store.refPath(tag), { manifest: image.manifestDigest, host: hostname() });
  opts.progress({ type: "build-done", at: solver.now(), digest: image.manifestDigest, cached: solver.stats.cached, built: solver.stats.built });
  return { image, cached: solver.stats.cached, built: solver.stats.built };
}
