import type { BaseImageResolver, ImageResolver, Lockfile, ProgressSink, Store } from "@strata/engine";
import { StrataError } from "@strata/graph";
import type { RegistryOptions } from "@strata/registry";
import type { CliContext } from "../context.ts";
import { displayPath } from "../ui/code-frame.ts";

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
  /** `--pull`: ask the registry for every tag's current digest (the lockfile's answers are not used). */
  readonly pull?: boolean;
}

/** Registry client options from the CLI's environment: `DOCKER_CONFIG` credentials, insecure hosts. */
export function registryOptions(ctx: CliContext, insecure: readonly string[]): RegistryOptions {
  return { ...(insecure.length ? { insecure: [...insecure] } : {}), dockerConfig: { env: ctx.env } };
}

/**
 * The resolver every command that reads base images shares (build, pull, lock): overrides,
 * the lockfile (when given), the store, then the registry through its mirrors.
 */
export async function baseImageResolver(
  store: Store,
  opts: { moduleDir: string; overrides: readonly string[]; mirrors: readonly string[]; insecure: readonly string[]; lock?: Lockfile; lockPath?: string; locked?: boolean },
  ctx: CliContext,
  onInfo: (message: string) => void,
): Promise<BaseImageResolver> {
  const { BaseImageResolver, LocalImageResolver, MirroredRegistry, parseImageOverrides, parseMirrors } = await import("@strata/engine/light");
  // The HTTP client loads on the first request: a locked, cached build makes none.
  const client = () => import("@strata/registry").then((m) => new m.Registry(registryOptions(ctx, opts.insecure)));
  const registry = new MirroredRegistry(client, parseMirrors(opts.mirrors), onInfo);
  return new BaseImageResolver({
    blobs: store.blobs,
    cache: store,
    registry,
    local: new LocalImageResolver(opts.moduleDir),
    overrides: parseImageOverrides(opts.overrides, ctx.cwd),
    ...(opts.lock ? { lock: opts.lock } : {}),
    ...(opts.lockPath ? { lockPath: opts.lockPath } : {}),
    ...(opts.locked ? { locked: true } : {}),
    onInfo,
  });
}

/**
 * The image resolvers a build uses: registry references (through overrides, the lockfile
 * beside the image file, and mirrors) and local transports.
 */
export async function makeResolvers(store: Store, opts: ResolverOptions, ctx: CliContext, progress: ProgressSink): Promise<{ registry: ImageResolver; local: ImageResolver }> {
  const { lockfilePath, readLockfile } = await import("@strata/engine/light");
  const lockPath = lockfilePath(opts.moduleDir);
  if (opts.pull && opts.locked) throw new StrataError("STRATA_USAGE", "--pull asks the registry for newer base images; --locked forbids it", { hint: "use one of them" });
  const lock = opts.pull ? undefined : readLockfile(lockPath);
  if (opts.locked && !lock) {
    throw new StrataError("STRATA_LOCKFILE_MISSING", `--locked, but there is no lockfile at ${displayPath(lockPath, ctx.cwd)}`, {
      hint: `run \`strata lock ${displayPath(opts.file, ctx.cwd)}\` and commit strata.lock`,
    });
  }
  const resolver = await baseImageResolver(store, { ...opts, ...(lock ? { lock } : {}), lockPath: displayPath(lockPath, ctx.cwd), locked: opts.locked }, ctx, (m) => progress({ type: "info", at: 0, message: m }));
  return { registry: resolver, local: resolver };
}
