import { hostname } from "node:os";
import { createGraph, hasSelect, resolveSelects, StrataError, type LayerGraph } from "@strata/graph";
import type { OciImage } from "@strata/oci";
import { imageConfig, storeImage } from "./image/assemble.ts";
import { recordProvenance } from "./image/provenance.ts";
import { evalContext } from "./solver/expand.ts";
import { Solver } from "./solver/solver.ts";
import type { SolveOptions } from "./solver/options.ts";
import { checkGraphEntitlements } from "./solver/entitlements.ts";
import type { Store } from "./store/store.ts";
import { writeJsonAtomic } from "./store/atomic.ts";
import { acquireBuildLock } from "./store/locks.ts";
import { startBuildWatchdog } from "./store/build-watchdog.ts";
import { reclaimDeadBuilds } from "./store/reclaim.ts";

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
export async function buildImage(
  store: Store,
  target: LayerGraph,
  opts: SolveOptions & {
    readonly tags?: readonly string[];
    /** `--label K=V`: set in the config over the image's own labels, as docker build does. */
    readonly labels?: Readonly<Record<string, string>>;
  },
): Promise<BuildResult> {
  checkGraphEntitlements(target, opts.allow ?? []);
  // A stage chosen by a build arg (`FROM base-$TARGETOS`) becomes the stage this build's args name.
  const graph = hasSelect(target.image) ? createGraph(resolveSelects(target.image, evalContext(opts))) : target;
  // Shared with the CLI's hold (re-entrant): prune never runs between the solve and the tags.
  const release = await acquireBuildLock(store, { signal: opts.signal });
  // What builds killed earlier left running, mounted or in memory goes first.
  await reclaimDeadBuilds(store).catch(() => {});
  // And what this build leaves if it is killed goes the moment it dies.
  const watchdog = startBuildWatchdog(store);
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
        let config = imageConfig(graph, root, solver.evalCtx, { platform: opts.platform, sourceDateEpoch: opts.sourceDateEpoch, emptyOps: solver.emptyOps });
        if (opts.labels && Object.keys(opts.labels).length) config = { ...config, config: { ...config.config, Labels: { ...config.config?.Labels, ...opts.labels } } };
        image = await storeImage(store, root, config);
        recordProvenance(store, graph, image, solver.emptyOps, opts.explain?.target);
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
    for (const tag of opts.tags ?? []) writeJsonAtomic(store.refPath(tag), { manifest: image.manifestDigest, host: hostname() });
  } finally {
    release();
    watchdog.stop();
  }
  opts.progress({ type: "build-done", at: solver.now(), digest: image.manifestDigest, cached: solver.stats.cached, built: solver.stats.built });
  return { image, cached: solver.stats.cached, built: solver.stats.built };
}
