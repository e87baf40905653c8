import type { Platform } from "@strata/graph";
import type { ImageResolver } from "../sources/image-sources.ts";
import type { ProgressSink } from "../progress/events.ts";
import type { Entitlement } from "./entitlements.ts";

/** A secret for `--mount=type=secret`: a file, an environment variable, or bytes. */
export type SecretSource = { readonly file: string } | { readonly env: string } | { readonly value: Uint8Array };

export interface SolveOptions {
  /** Directory of the image module or Dockerfile: relative context and image paths start here. */
  readonly moduleDir: string;
  /** Where the default context (`context`) is, when not `moduleDir` joined with its path. */
  readonly contextDir?: string;
  /** Named contexts: name → directory (`--context name=dir`). */
  readonly contexts?: Readonly<Record<string, string>>;
  readonly buildArgs: Readonly<Record<string, string>>;
  /** The platform the image is for (default: this machine's). */
  readonly platform: Platform;
  /** This machine's platform (BUILDPLATFORM). */
  readonly buildPlatform: Platform;
  readonly secrets: Readonly<Record<string, SecretSource>>;
  /** `SSH_AUTH_SOCK` of the agent to forward to `ssh` mounts, by id. */
  readonly ssh?: Readonly<Record<string, string>>;
  /** Rebuild everything (results are still stored, for the next build). */
  readonly noCache: boolean;
  /** `--no-cache-filter`: these ops (by op digest) run again; the others may be cache hits. */
  readonly noCacheOps?: ReadonlySet<string>;
  readonly sourceDateEpoch: number;
  readonly executor: "auto" | "runc" | "crun" | "sandbox";
  /**
   * Entitlements granted to RUN steps (`--allow`): without `network.host` a `network: "host"`
   * step is refused, without `security.insecure` a `security: "insecure"` one. Default: none.
   */
  readonly allow?: readonly Entitlement[];
  /** RUN steps at once (default: the number of cores). */
  readonly parallelism: number;
  /** Registry images (and local transports) resolve through these. */
  readonly registry: ImageResolver;
  readonly local: ImageResolver;
  readonly progress: ProgressSink;
  readonly signal: AbortSignal;
  /** Record per-step inputs and report, on each miss, what changed since the last build (--explain). */
  readonly explain?: { readonly target: string };
  /**
   * Shared caches: `remote` is consulted on every local miss (`--cache-from`), `collect`
   * records every step's key and result for `--cache-to`.
   */
  readonly cacheShare?: {
    readonly remote?: import("../cache-share/remote-cache.ts").RemoteCache;
    readonly collect?: import("../cache-share/collector.ts").CacheCollector;
  };
  /**
   * A base image's ONBUILD triggers as a graph on top of `ONBUILD_BASE` (the importer of
   * Dockerfile instructions lives outside the engine, so the CLI passes it in). Without it, a
   * base with triggers is an error rather than a silently different image.
   */
  readonly onbuild?: (triggers: readonly string[]) => import("@strata/graph").LayerGraph | Promise<import("@strata/graph").LayerGraph>;
}

/** Build args that are always allowed without an ARG and never enter the cache key (Docker's proxy args). */
export const PROXY_ARGS = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"];

/** The image reference the ONBUILD trigger graph starts from; the solver substitutes the real base. */
export const ONBUILD_BASE = "strata.invalid/onbuild-base:placeholder";
