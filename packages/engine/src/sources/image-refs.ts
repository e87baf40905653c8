import { createGraph, hasSelect, parsePlatform, resolveLocation, resolveSelects, ScopeState, type ImageTransport, type LayerGraph, type Platform, type SourceLocation } from "@strata/graph";
import { evalContext } from "../solver/expand.ts";
import type { SolveOptions } from "../solver/options.ts";

/** One image a graph starts from, expanded as the solver would expand it. */
export interface ImageReference {
  readonly transport: ImageTransport;
  readonly ref: string;
  readonly platform: Platform;
  readonly location?: SourceLocation;
}

/**
 * Every image source in a graph (each `from(…)`/`FROM`), with its reference and platform
 * expanded exactly as `solveSource` does: the global args in scope, their defaults unless
 * `buildArgs` sets them, and the predefined platform args. `scratch` is not an image.
 * A stage chosen by a build arg counts only when this build picks it.
 */
export function imageReferences(target: LayerGraph, opts: Pick<SolveOptions, "buildArgs" | "platform" | "buildPlatform">): ImageReference[] {
  const ctx = evalContext(opts);
  const out: ImageReference[] = [];
  // Only the stages this build's args pick (`FROM base-$TARGETOS`): the others are never pulled.
  const graph = hasSelect(target.image) ? createGraph(resolveSelects(target.image, ctx)) : target;
  for (const op of graph.nodes.values()) {
    if (op.kind !== "SourceOp" || op.source.type !== "image") continue;
    const s = op.source;
    const state = new ScopeState(ctx, {}, { implicitPredefined: true }).applyAll(s.scope ?? []);
    const ref = state.expand(s.ref);
    if (!ref || (!s.transport && ref === "scratch")) continue;
    const platform = s.platform !== undefined ? parsePlatform(state.expand(s.platform)) : opts.platform;
    const location = resolveLocation(op.meta);
    out.push({ transport: s.transport ?? "registry", ref, platform, ...(location ? { location } : {}) });
  }
  return out;
}
