import { cpus, homedir } from "node:os";
import { join, resolve } from "node:path";
import type { Digest, LayerGraph, Platform } from "@strata/graph";
import { hostPlatform, type OciImage } from "@strata/oci";
import type { RegistryOptions } from "@strata/registry";
import { buildImage } from "../build.ts";
import type { ProgressEvent } from "../progress/events.ts";
import type { SecretSource, SolveOptions } from "../solver/options.ts";
import { BaseImageResolver } from "../sources/base-images.ts";
import { LocalImageResolver, type ImageResolver } from "../sources/image-sources.ts";
import type { Lockfile } from "../sources/lockfile.ts";
import { MirroredRegistry } from "../sources/registry-mirrors.ts";
import { Store } from "../store/store.ts";

/** Something that compiles to a layer graph: an `Image` from @strata/core, or a graph itself. */
export type BuildTarget = LayerGraph | { toGraph(): LayerGraph };

/**
 * Options of {@link build}. Every field has a default, so `build(image)` builds for this machine
 * into the user's store, as `strata build` does.
 */
export interface BuildOptions {
  /** The store: a `Store`, or its directory. Default: `$STRATA_HOME`, else `$XDG_CACHE_HOME/strata`, else `~/.cache/strata`. */
  readonly store?: Store | string;
  /** Where relative context and image paths start (the module's directory). Default: the current directory. */
  readonly moduleDir?: string;
  /** The default context's directory, when not `moduleDir` joined with its path. */
  readonly contextDir?: string;
  /** Named contexts: name → directory (`--context name=dir`). */
  readonly contexts?: Readonly<Record<string, string>>;
  /** Build args (`--build-arg`). Default: none; every arg takes its default. */
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** The platform the image is for. Default: this machine's. */
  readonly platform?: Platform;
  /** Secrets for `secret()` mounts, by id. */
  readonly secrets?: Readonly<Record<string, SecretSource>>;
  /** SSH agent sockets for `ssh()` mounts, by id. */
  readonly ssh?: Readonly<Record<string, string>>;
  /** Run every step again (results are still stored). Default: false. */
  readonly noCache?: boolean;
  /** The timestamp of every file and of the config, in seconds. Default: `$SOURCE_DATE_EPOCH`, else 0. */
  readonly sourceDateEpoch?: number;
  /** How RUN steps are isolated. Default: `auto` (runc when it works here, else the built-in sandbox). */
  readonly executor?: SolveOptions["executor"];
  /** RUN steps at once. Default: the number of cores. */
  readonly parallelism?: number;
  /** Names to tag the image with in the store. */
  readonly tags?: readonly string[];
  /** Pinned base images (a parsed `strata.lock`); with `locked`, an unpinned registry reference is an error. */
  readonly lock?: Lockfile;
  readonly locked?: boolean;
  /** Registry client options (credentials come from Docker's config.json by default). */
  readonly registry?: RegistryOptions;
  /** Resolvers for base images, to replace the defaults (the store, then the registry; local transports relative to `moduleDir`). */
  readonly resolvers?: { readonly registry: ImageResolver; readonly local: ImageResolver };
  /** Called with every progress event (the same events `strata build --progress json` prints). */
  readonly onProgress?: (event: ProgressEvent) => void;
  /** Aborts the build: running steps are stopped, nothing half-written stays. */
  readonly signal?: AbortSignal;
  /** Record the inputs of each step and explain, on a miss, what changed since the last build of `target`. */
  readonly explain?: { readonly target: string };
  /** Turns a base image's ONBUILD triggers into a graph (pass `@strata/dockerfile`'s importer); without it such a base is an error. */
  readonly onbuild?: SolveOptions["onbuild"];
}

/** What {@link build} returns. */
export interface BuildOutcome {
  /** The image, in the store: manifest, config and layers. */
  readonly image: OciImage;
  /** The manifest digest (what a registry reports after a push of this image). */
  readonly manifestDigest: Digest;
  /** The config digest: the image ID `docker images` shows after loading it. */
  readonly imageId: Digest;
  /** Steps served from the cache, and run. */
  readonly cached: number;
  readonly built: number;
  /** Wall-clock time of the build, in milliseconds. */
  readonly ms: number;
  /** The store the image is in (for outputs: `writeOutput(store, image, …)`). */
  readonly store: Store;
}

/** The store directory `strata` uses: `$STRATA_HOME`, else `$XDG_CACHE_HOME/strata`, else `~/.cache/strata`. */
export function defaultStoreDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.STRATA_HOME) return env.STRATA_HOME;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "strata");
  return join(homedir(), ".cache", "strata");
}

/**
 * Builds an image natively, as `strata build` does, from code:
 *
 * ```ts
 * // from() comes from @strata/core, build() from @strata/engine
 * const { imageId } = await build(from("busybox:1.36").run("echo hi > /hi"), { tags: ["hi:dev"] });
 * ```
 *
 * Every option has a default (this machine's platform, the user's store, the registry with
 * Docker's credentials). The result names the image in the store; write it elsewhere with
 * `writeOutput` or `loadIntoDocker`.
 */
export async function build(target: BuildTarget, options: BuildOptions = {}): Promise<BuildOutcome> {
  const started = performance.now();
  const graph = "toGraph" in target ? target.toGraph() : target;
  const store = options.store instanceof Store ? options.store : new Store(resolve(options.store ?? defaultStoreDir()));
  const moduleDir = resolve(options.moduleDir ?? process.cwd());
  const sde = options.sourceDateEpoch ?? (process.env.SOURCE_DATE_EPOCH !== undefined ? Number(process.env.SOURCE_DATE_EPOCH) : 0);
  const resolvers = options.resolvers ?? defaultResolvers(store, moduleDir, options);
  const result = await buildImage(store, graph, {
    moduleDir,
    ...(options.contextDir !== undefined ? { contextDir: resolve(options.contextDir) } : {}),
    ...(options.contexts ? { contexts: options.contexts } : {}),
    buildArgs: options.buildArgs ?? {},
    platform: options.platform ?? hostPlatform(),
    buildPlatform: hostPlatform(),
    secrets: options.secrets ?? {},
    ...(options.ssh ? { ssh: options.ssh } : {}),
    noCache: options.noCache ?? false,
    sourceDateEpoch: sde,
    executor: options.executor ?? "auto",
    parallelism: options.parallelism ?? cpus().length,
    registry: resolvers.registry,
    local: resolvers.local,
    progress: options.onProgress ?? (() => {}),
    signal: options.signal ?? new AbortController().signal,
    ...(options.explain ? { explain: options.explain } : {}),
    ...(options.onbuild ? { onbuild: options.onbuild } : {}),
    ...(options.tags ? { tags: options.tags } : {}),
  });
  return {
    image: result.image,
    manifestDigest: result.image.manifestDigest,
    imageId: result.image.manifest.config.digest,
    cached: result.cached,
    built: result.built,
    ms: Math.round(performance.now() - started),
    store,
  };
}

/** The store, then the registry (loaded on the first request: a cached build opens no socket); local transports relative to the module. */
function defaultResolvers(store: Store, moduleDir: string, options: BuildOptions): { registry: ImageResolver; local: ImageResolver } {
  const client = () => import("@strata/registry").then((m) => new m.Registry(options.registry ?? { dockerConfig: { env: process.env } }));
  const resolver = new BaseImageResolver({
    blobs: store.blobs,
    cache: store,
    registry: new MirroredRegistry(client, new Map()),
    local: new LocalImageResolver(moduleDir),
    ...(options.lock ? { lock: options.lock } : {}),
    ...(options.locked ? { locked: true } : {}),
    onInfo: (message) => options.onProgress?.({ type: "info", at: 0, message }),
  });
  return { registry: resolver, local: resolver };
}
