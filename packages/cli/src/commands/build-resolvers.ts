import type { ImageResolver, ProgressSink, Store } from "@strata/build";
import type { CliContext } from "../context.ts";

/** What `strata build` options say about where base images come from. */
export interface ResolverOptions {
  readonly moduleDir: string;
  /** The image file, to find its `strata.lock` beside it. */
  readonly file: string;
  readonly locked: boolean;
  /** `--image REF=SOURCE` overrides (e.g. `node:22=oci-layout:./node22`). */
  readonly overrides: readonly string[];
  readonly mirrors: readonly string[];
  readonly insecure: readonly string[];
}

/**
 * The image resolvers a build uses: registry references (through overrides, mirrors and the
 * lockfile) and local transports.
 */
export async function makeResolvers(store: Store, opts: ResolverOptions, _ctx: CliContext, progress: ProgressSink): Promise<{ registry: ImageResolver; local: ImageResolver }> {
  const { LocalImageResolver, RegistryImageResolver } = await import("@strata/build");
  const local = new LocalImageResolver(opts.moduleDir);
  const registry = new RegistryImageResolver(store.blobs, opts.insecure.length ? { insecure: [...opts.insecure] } : {}, (m) => progress({ type: "info", at: 0, message: m }));
  return { registry, local };
}
