import { hostname } from "node:os";
import { createGraph, hasSelect, resolveSelects, StrataError, type LayerGraph } from "@strata/graph";
import type { OciImage } from "@strata/oci";
import { imageConfig, storeImage } from "./image/assemble.ts";
import { recordProvenance } from "./image/provenance.ts";
import { Solver } from "./solver/solver.ts";
import type { SolveOptions } from "./solver/options.ts";
import { checkGraphEntitlements } from "./solver/entitlements.ts";
import { Store } from "./store/store.ts";
import { writeJsonAtomic } from "./store/atomic.ts";
import { acquireBuildLock } from "./store/locks.ts";
import { startBuildWatchdog } from "./store/build-watchdog.ts";
import { reclaimDeadBuilds } from "./store/reclaim.ts";

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
  // Shared with the CLI's hold (re-entrant): prune never runs between the solve and the tags.
  const release = await acquireBuildLock(store, { signal: opts.signal });
  // What builds killed earlier left running, mounted or in memory goes first.
  await reclaimDeadBuilds(store).catch(() => {});
  // And what this build leaves if it is killed goes the moment it dies.
  const watchdog = startBuildWatchdog(store);
  const solver = new Solver(store, opts);
  let graph = target;
  try {
    // A stage chosen by a build arg (`FROM base-$TARGETOS`) becomes the stage this build's args name.
    if (hasSelect(target.image)) graph = createGraph(resolveSelects(target.image, solver.evalCtx));
  } catch (e) {
    release();
    watchdog.stop();
    throw e;
  }
  solver.explain?.begin(graph);
  opts.progress({ type: "build-start", at: solver.now(), target: opts.explain?.target ?? graph.digest, steps: graph.nodes.size });
  let image: OciImage;
  try {
    try {
      const root = await solver.fs(graph.image.rootfs, "the image's root filesystem");
      let config = imageConfig(graph, root, solver.evalCtx, { platform: opts.platform, sourceDateEpoch: opts.sourceDateEpoch, emptyOps: solver.emptyOps });
      if (opts.labels && Object.keys(opts.labels).length) config = { ...config, config: { ...config.config, Labels: { ...config.config?.Labels, ...opts.labels } } };
      image = await storeImage(store, root, config);
      recordProvenance(store, graph, image, solver.emptyOps, opts.explain?.target);
    } catch (e) {
      throw e instanceof Error ? e : new StrataError("STRATA_BUILD_FAILED", String(e));
    } finally {
      solver.explain?.save();
      // Remember the content digests computed this time, so the next build reads no unchanged file.
      for (const c of solver.contexts.values()) await c.then((r) => r.snapshot.saveStatCache()).catch(() => {});
    }
    for (const tag of opts.tags ?? []) writeJsonAtomic(store.refPath(tag), { manifest: image.manifestDigest, host: hostname() });
  } finally {
    release();
    watchdog.stop();
  }
  opts.progress({ type: "build-done", at: solver.now(), digest: image.manifestDigest, cached: solver.stats.cached, built: solver.stats.built });
  return { image, cached: solver.stats.cached, built: solver.stats.built };
}
