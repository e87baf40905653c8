import { hostname } from "node:os";
import { StrataError, type LayerGraph } from "@strata/graph";
import type { OciImage } from "@strata/oci";
import { imageConfig, storeImage } from "./image/assemble.ts";
import { Solver } from "./solver/solver.ts";
import type { SolveOptions } from "./solver/options.ts";
import { Store } from "./store/store.ts";
import { writeJsonAtomic } from "./store/atomic.ts";
import { holdBuildLock } from "./store/locks.ts";

/** Solves after a shared cache's bad blob, at most (each retry knows one more bad blob). */
const MAX_CACHE_RETRIES = 16;

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
export async function buildImage(store: Store, graph: LayerGraph, opts: SolveOptions & { readonly tags?: readonly string[] }): Promise<BuildResult> {
  const release = holdBuildLock(store);
  let solver: Solver;
  let image: OciImage;
  try {
    for (let attempt = 0; ; attempt++) {
      // With a shared cache, misses that no needed step reads are skipped (cache-share/plan.ts).
      const plan = opts.cacheShare?.remote && !opts.noCache ? await (await import("./cache-share/plan.ts")).unneededSteps(store, graph, opts) : undefined;
      solver = new Solver(store, opts, plan ?? {});
      solver.explain?.begin(graph);
      if (attempt === 0) opts.progress({ type: "build-start", at: solver.now(), target: opts.explain?.target ?? graph.digest, steps: graph.nodes.size });
      try {
        const root = await solver.fs(graph.image.rootfs, "the image's root filesystem");
        // Layers a shared cache served are fetched only now, and only the image's own.
        for (const l of root.layers) await solver.layers.ensure(l.diffId);
        const config = imageConfig(graph, root, solver.evalCtx, { platform: opts.platform, sourceDateEpoch: opts.sourceDateEpoch, emptyOps: solver.emptyOps });
        image = await storeImage(store, root, config);
        break;
      } catch (e) {
        // A shared cache's blob was missing or corrupt: it is now known bad, so solving again
        // runs the steps that need it (everything else is a hit, locally or remotely).
        if (e instanceof StrataError && e.code === "STRATA_CACHE_BLOB_INVALID" && opts.cacheShare?.remote && attempt < MAX_CACHE_RETRIES && !opts.signal.aborted) {
          opts.progress({ type: "info", at: solver.now(), message: "solving again without the shared cache's unusable blob" });
          continue;
        }
        throw e instanceof Error ? e : new StrataError("STRATA_BUILD_FAILED", String(e));
      } finally {
        solver.explain?.save();
        // Remember the content digests computed this time, so the next build reads no unchanged file.
        for (const c of solver.contexts.values()) await c.then((r) => r.snapshot.saveStatCache()).catch(() => {});
      }
    }
  } finally {
    release();
  }
  for (const tag of opts.tags ?? []) writeJsonAtomic(store.refPath(tag), { manifest: image.manifestDigest, host: hostname() });
  opts.progress({ type: "build-done", at: solver.now(), digest: image.manifestDigest, cached: solver.stats.cached, built: solver.stats.built });
  return { image, cached: solver.stats.cached, built: solver.stats.built };
}
