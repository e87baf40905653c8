import type { CacheCollector, CacheExportSpec, CacheImportSpec, RemoteCache, Store } from "@strata/engine/light";
import type { Op } from "@strata/graph";
import type { CliContext } from "../context.ts";
import { registryOptions } from "./build-resolvers.ts";

/** What `--cache-from` / `--cache-to` set up for one native build. */
export interface CacheShareSetup {
  /** Passed to buildImage as `cacheShare`. */
  readonly share: { readonly remote?: RemoteCache; readonly collect?: CacheCollector } | undefined;
  /** Writes every `--cache-to` (after the image's own push, so its blobs can be mounted). */
  exportAll(rootfs: Op, pushedRefs: readonly string[]): Promise<void>;
}

/**
 * Parses `--cache-from` (repeatable, consulted in the order given) and `--cache-to`
 * (repeatable) and builds what the engine needs: a RemoteCache over the sources and a
 * collector of the steps for the exports. Warnings (an unreachable source, a corrupt blob)
 * go to stderr; they never fail the build.
 */
export async function setupCacheShare(from: readonly string[], to: readonly string[], store: Store, ctx: CliContext, opts: { insecure: readonly string[]; signal: AbortSignal }): Promise<CacheShareSetup> {
  if (!from.length && !to.length) return { share: undefined, exportAll: async () => {} };
  const engine = await import("@strata/engine/light");
  const imports: CacheImportSpec[] = from.map((f) => engine.parseCacheFrom(f, ctx.cwd));
  const exports: CacheExportSpec[] = to.map((t) => engine.parseCacheTo(t, ctx.cwd));
  const warn = (message: string) => ctx.stderr(`warning: ${message}\n`);
  const needsRegistry = [...imports, ...exports].some((s) => s.type === "registry");
  const { Registry, parseReference } = await import("@strata/registry");
  const registry = needsRegistry ? new Registry(registryOptions(ctx, opts.insecure)) : undefined;
  const sources = imports.map((s) => (s.type === "registry" ? new engine.RegistryCacheSource(registry!, s.ref, store.blobs) : new engine.LocalCacheSource(s.src, store.blobs)));
  const remote = sources.length ? new engine.RemoteCache(sources, store, warn, opts.signal) : undefined;
  const collect = exports.length ? new engine.CacheCollector() : undefined;
  return {
    share: { ...(remote ? { remote } : {}), ...(collect ? { collect } : {}) },
    exportAll: async (rootfs, pushedRefs) => {
      for (const spec of exports) {
        const name = engine.describeCache(spec);
        try {
          const records = collect!.select(rootfs, spec.mode);
          const domain = spec.type === "registry" ? parseReference(spec.ref).domain : undefined;
          const mountFrom = pushedRefs.map((r) => parseReference(r)).filter((r) => r.domain === domain).map((r) => r.path);
          const r = await engine.exportCache(store, records, spec, {
            ...(registry ? { registry } : {}),
            ...(remote ? { remote } : {}),
            mounts: collect!.mounts,
            mountFrom,
            warn,
            signal: opts.signal,
          });
          const blobs = r.blobs ? `; blobs: ${r.blobs.uploaded} uploaded, ${r.blobs.exists} already there${r.blobs.mounted ? `, ${r.blobs.mounted} mounted` : ""}` : "";
          ctx.stderr(`  exported cache to ${name} (${r.records} steps, ${r.layers} layers, ${r.mounts} cache mounts${blobs})\n`);
        } catch (e) {
          if (!spec.ignoreError) throw e;
          warn(`could not export the cache to ${name}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    },
  };
}
