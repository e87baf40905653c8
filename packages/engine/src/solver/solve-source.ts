import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { foldConfig, opDigest, parsePlatform, resolveLocation, ScopeState, StrataError, type LayerGraph, type SourceOp } from "@strata/graph";
import { ONBUILD_BASE } from "./options.ts";
import { snapshotContext } from "../context/snapshot.ts";
import { cacheKey } from "./cache-key.ts";
import { download } from "./download.ts";
import { gitCheckout } from "./git.ts";
import type { OpResult } from "./results.ts";
import type { SolverContext } from "./solver.ts";
import type { FsState, LayerRef } from "./types.ts";

const SCRATCH_KEY = cacheKey("scratch", {});

export async function solveSource(ctx: SolverContext, op: SourceOp): Promise<OpResult> {
  const s = op.source;
  const loc = resolveLocation(op.meta);
  switch (s.type) {
    case "scratch":
      return { kind: "fs", key: SCRATCH_KEY, layers: [], base: undefined } satisfies FsState;
    case "image": {
      // FROM lines see the global args and the predefined platform args.
      const state = new ScopeState(ctx.evalCtx, {}, { implicitPredefined: true }).applyAll(s.scope ?? []);
      const ref = state.expand(s.ref);
      if (!s.transport && ref === "scratch") return { kind: "fs", key: SCRATCH_KEY, layers: [], base: undefined } satisfies FsState;
      if (!ref) throw new StrataError("STRATA_BAD_IMAGE_REF", `the image reference ${JSON.stringify(s.ref)} expands to nothing`, { locations: [loc], hint: "give the build arg a value (--build-arg) or a default" });
      const platform = s.platform !== undefined ? parsePlatform(state.expand(s.platform)) : ctx.opts.platform;
      const spec = { transport: s.transport ?? "registry", ref, platform } as const;
      const resolver = spec.transport === "registry" ? ctx.opts.registry : ctx.opts.local;
      let resolved: Awaited<ReturnType<typeof resolver.resolve>>;
      try {
        resolved = await resolver.resolve(spec);
      } catch (e) {
        throw located(e, loc);
      }
      ctx.explain?.note(op, { values: { image: `${spec.transport === "registry" ? "" : `${spec.transport}:`}${ref}`, "resolved to": resolved.key } });
      const key = cacheKey("image", { source: resolved.key, platform: `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ""}` });
      const base = await ctx.cached(op, key, undefined, undefined, async () => {
        const img = await resolved.load();
        try {
          const layers: LayerRef[] = [];
          for (const l of img.layers) layers.push(await ctx.layers.import(await l.open(), l.diffId));
          const config = await ctx.store.blobs.put(img.configBytes);
          return { layers, added: true, base: { manifestDigest: img.manifestDigest, configDigest: config.digest } };
        } finally {
          img.dispose?.();
        }
      });
      const triggers = base.base?.config.OnBuild ?? [];
      return triggers.length ? applyOnbuild(ctx, op, base, triggers) : base;
    }
    case "local": {
      const id = opDigest(op);
      let p = ctx.contexts.get(id);
      if (!p) {
        p = (async () => {
          const named = ctx.opts.contexts?.[s.name];
          const dir = named ?? (s.name === "context" && ctx.opts.contextDir ? ctx.opts.contextDir : resolve(ctx.opts.moduleDir, s.path ?? "."));
          if (!existsSync(dir) || !statSync(dir).isDirectory()) {
            throw new StrataError("STRATA_CONTEXT_NOT_FOUND", `the build context ${JSON.stringify(s.name)} is not a directory: ${dir}`, {
              locations: [loc],
              hint: s.name === "context" ? "run from the project directory or pass --context DIR" : `pass --context ${s.name}=DIR`,
            });
          }
          const snapshot = snapshotContext(dir, {
            ...(s.include ? { include: [...s.include] } : {}),
            ...(s.exclude ? { exclude: [...s.exclude] } : {}),
            ignoreFile: false,
            statCache: ctx.store.path("statcache"),
          });
          return { kind: "context", name: s.name, dir, snapshot, filtered: Boolean(s.include?.length || s.exclude?.length) } as const;
        })();
        ctx.contexts.set(id, p);
      }
      return p;
    }
    case "http": {
      const state = new ScopeState(ctx.evalCtx).applyAll(s.scope ?? []);
      return download(ctx, op, state.expand(s.url), s.checksum, s.filename);
    }
    case "git": {
      const state = new ScopeState(ctx.evalCtx).applyAll(s.scope ?? []);
      return gitCheckout(ctx, op, state.expand(s.url), s.ref === undefined ? undefined : state.expand(s.ref), s.keepGitDir === true, s.checksum);
    }
  }
}

function located(e: unknown, loc: ReturnType<typeof resolveLocation>): unknown {
  if (e instanceof StrataError && !e.locations.length) return e.withLocation(loc);
  return e;
}

/**
 * A base image's ONBUILD triggers run right after FROM, as Docker does: they are imported as
 * Dockerfile instructions on top of the base (substituted for a placeholder source), and their
 * config changes are folded into the base config the stage inherits (its ONBUILD list cleared).
 */
async function applyOnbuild(ctx: SolverContext, op: SourceOp, base: FsState, triggers: readonly string[]): Promise<FsState> {
  const loc = resolveLocation(op.meta);
  if (!ctx.opts.onbuild) {
    throw new StrataError("STRATA_ONBUILD_UNSUPPORTED", `the base image has ONBUILD triggers (${triggers.join("; ")})`, { locations: [loc] });
  }
  let graph: LayerGraph;
  try {
    graph = await ctx.opts.onbuild(triggers);
  } catch (e) {
    throw new StrataError("STRATA_ONBUILD_INVALID", `the base image's ONBUILD triggers cannot be read: ${(e as Error).message}`, { locations: [loc], cause: e });
  }
  const placeholder = [...graph.nodes.values()].find((n) => n.kind === "SourceOp" && n.source.type === "image" && n.source.ref === ONBUILD_BASE);
  const config = { ...base.base!.config };
  delete (config as { OnBuild?: unknown }).OnBuild;
  const plain: FsState = { ...base, base: { ...base.base!, config, configFile: { ...base.base!.configFile, config } } };
  if (placeholder) ctx.substitutes.set(opDigest(placeholder), plain);
  const root = await ctx.fs(graph.image.rootfs, "the ONBUILD triggers' result");
  const folded = foldConfig(config, graph.image, ctx.evalCtx).config;
  const withTriggers = { ...folded };
  delete (withTriggers as { OnBuild?: unknown }).OnBuild;
  return { kind: "fs", key: root.key, layers: root.layers, base: { ...base.base!, config: withTriggers, configFile: { ...base.base!.configFile, config: withTriggers } } };
}
