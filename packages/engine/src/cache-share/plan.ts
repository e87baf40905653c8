import type { LayerGraph, Op } from "@strata/graph";
import { Solver } from "../solver/solver.ts";
import type { SolveOptions } from "../solver/options.ts";
import type { Store } from "../store/store.ts";

/**
 * Which cache misses a build can skip. Cache keys derive from the inputs' keys, never their
 * content, so a step served by a cache needs nothing from its inputs. A probe pass solves
 * every key (running only image sources, silently) and notes the hits; walking down from the
 * image's root filesystem, a step is needed when it is the root or an input of a needed miss.
 * The misses no needed step reads are skipped: with a min cache that holds only the final
 * stage, the build stages it copies from never run (BuildKit's behaviour). Any failure of the
 * probe means no skipping: the build then just runs what it misses.
 */
export async function unneededSteps(store: Store, graph: LayerGraph, opts: SolveOptions): Promise<{ skip: ReadonlySet<Op>; prebuilt: ReadonlySet<Op> }> {
  const hits = new Set<Op>();
  const seen = new Set<Op>();
  const built = new Set<Op>();
  const { explain: _e, cacheShare, ...rest } = opts;
  // Pulling a base image shows its progress; the real pass reports hits.
  const progress: SolveOptions["progress"] = (e) => {
    if (e.type !== "step-cached" && e.type !== "explain" && e.type !== "build-start" && e.type !== "build-done") opts.progress(e);
  };
  const probe = new Solver(store, { ...rest, progress, ...(cacheShare?.remote ? { cacheShare: { remote: cacheShare.remote } } : {}) }, { hits, seen, built });
  try {
    await probe.fs(graph.image.rootfs, "the image's root filesystem");
  } catch {
    return { skip: new Set(), prebuilt: built };
  }
  const needed = new Set<Op>();
  const stack: Op[] = [graph.image.rootfs];
  while (stack.length) {
    const op = stack.pop()!;
    if (needed.has(op)) continue;
    needed.add(op);
    if (!hits.has(op)) stack.push(...op.inputs);
  }
  return { skip: new Set([...seen].filter((op) => !needed.has(op))), prebuilt: built };
}
