import type { CacheSharing } from "@strata/graph";
import type { Image } from "./image.ts";
import { isCopyFrom, type CopyFrom } from "./sources.ts";

const MOUNT = Symbol.for("strata.mount");

/** A mount for one `run` step (Dockerfile `RUN --mount=…`); build with cache(), secret(), bind(), tmpfs(), ssh(). */
export type RunMount = CacheMount | SecretMount | BindMount | TmpfsMount | SshMount;

interface MountBase {
  readonly [MOUNT]: true;
}

/** A cache mount, made by `cache()` (Dockerfile `RUN --mount=type=cache,target=…`). */
export interface CacheMount extends MountBase {
  /** Always `cache`. */
  readonly type: "cache";
  /** Where the step sees the cache directory. */
  readonly target: string;
  /** Cache identity (default: the target path); steps with the same id share the cache. */
  readonly id?: string;
  /** `shared`, `private` or `locked` (see CacheOptions.sharing). */
  readonly sharing?: CacheSharing;
  /** Where the cache is seeded from when new (Dockerfile `from=`/`source=`). */
  readonly from?: CopyFrom;
  /** Mounted read-only (Dockerfile `ro`). */
  readonly readonly?: boolean;
  /** Owner uid of the cache directory (default 0). */
  readonly uid?: number;
  /** Owner gid of the cache directory (default 0). */
  readonly gid?: number;
  /** Permission bits of the cache directory (default `0o755`). */
  readonly mode?: number;
}

/**
 * Options of `cache(target, options)` (Dockerfile `RUN --mount=type=cache,id=…,sharing=…,from=…,ro,uid=…,gid=…,mode=…`).
 *
 * @example
 * base.user("app").run("npm ci", { mounts: [cache("/home/app/.npm", { uid: 1000, gid: 1000, sharing: "locked" })] })
 */
export interface CacheOptions {
  /** Cache identity (default: the target path). Steps with the same id share the cache. */
  readonly id?: string;
  /** `shared` (default): concurrent writers; `private`: a fresh copy per writer; `locked`: one writer at a time. */
  readonly sharing?: CacheSharing;
  /** Seed the cache from a path in another image or context (Dockerfile `from=`/`source=`). */
  readonly from?: Image | CopyFrom;
  /** Mount the cache read-only (Dockerfile `ro`): the step reads it and cannot add to it. */
  readonly readonly?: boolean;
  /** Owner uid of the cache directory when it is created (Dockerfile `uid=`; default 0): for steps run as a non-root user. */
  readonly uid?: number;
  /** Owner gid of the cache directory when it is created (Dockerfile `gid=`; default 0). */
  readonly gid?: number;
  /** Octal permission bits of the cache directory, e.g. `0o755`. */
  readonly mode?: number;
}

/** A persistent cache directory (never part of a layer): `cache("/root/.npm")`. */
export function cache(target: string, options: CacheOptions = {}): CacheMount {
  return mount({ type: "cache", target, ...stripFrom(options), ...(options.from ? { from: asCopyFrom(options.from) } : {}) });
}

/** A secret mount, made by `secret()` (Dockerfile `RUN --mount=type=secret,id=…`). */
export interface SecretMount extends MountBase {
  /** Always `secret`. */
  readonly type: "secret";
  /** The secret's id: what `strata build --secret id=…` gives a value to. */
  readonly id: string;
  /** The file the step reads it from (default `/run/secrets/<id>`). */
  readonly target?: string;
  /** An environment variable the step reads it from instead of (or as well as) the file. */
  readonly env?: string;
  /** The build fails when the secret is not given (default: the step runs without it). */
  readonly required?: boolean;
  /** Owner uid of the secret file (default 0). */
  readonly uid?: number;
  /** Owner gid of the secret file (default 0). */
  readonly gid?: number;
  /** Permission bits of the secret file (default `0o400`). */
  readonly mode?: number;
}

/**
 * Options of `secret(id, options)` (Dockerfile `RUN --mount=type=secret,id=…,target=…,env=…,required,uid=…,gid=…,mode=…`).
 *
 * @example
 * base.run("npm ci", { mounts: [secret("npmrc", { target: "/root/.npmrc", required: true })] })
 */
export interface SecretOptions {
  /** Mount as this file (default `/run/secrets/<id>`). */
  readonly target?: string;
  /** Expose as this environment variable instead of (or as well as) a file. */
  readonly env?: string;
  /** Fail the build if the secret is not given (default false: the step runs without it). */
  readonly required?: boolean;
  /** Owner uid of the secret file (Dockerfile `uid=`; default 0): for steps run as a non-root user. */
  readonly uid?: number;
  /** Owner gid of the secret file (Dockerfile `gid=`; default 0). */
  readonly gid?: number;
  /** Permission bits of the secret file (Dockerfile `mode=`; default `0o400`). */
  readonly mode?: number;
}

/**
 * A secret given to `strata build --secret id=…,src=…|env=…`. It is readable during the step
 * only and never lands in a layer, the history or the cache key.
 */
export function secret(id: string, options: SecretOptions = {}): SecretMount {
  return mount({ type: "secret", id, ...options });
}

/** A bind mount, made by `bind()` (Dockerfile `RUN --mount=type=bind,from=…,source=…,target=…[,rw]`). */
export interface BindMount extends MountBase {
  /** Always `bind`. */
  readonly type: "bind";
  /** Where the step sees the mounted files. */
  readonly target: string;
  /** What is mounted: paths of the context or of another image. */
  readonly from?: CopyFrom;
  /** Writable during the step (Dockerfile `rw`); the writes are discarded after it either way. */
  readonly readwrite?: boolean;
}

/**
 * Mounts a directory from the context or another image for one step (read-only unless
 * `readwrite`; writes are discarded either way): `bind(context().path("src"), "/src")`.
 */
export function bind(
  from: Image | CopyFrom,
  target: string,
  options: {
    /** Let the step write there (Dockerfile `rw`); the writes are discarded after the step. */
    readonly readwrite?: boolean;
  } = {},
): BindMount {
  return mount({ type: "bind", target, from: asCopyFrom(from), ...options });
}

/** A tmpfs mount, made by `tmpfs()` (Dockerfile `RUN --mount=type=tmpfs,target=…[,size=…]`). */
export interface TmpfsMount extends MountBase {
  /** Always `tmpfs`. */
  readonly type: "tmpfs";
  /** Where the step sees the empty, memory-backed directory. */
  readonly target: string;
  /** Its size limit in bytes (Dockerfile `size=`); default: the kernel's (half the memory). */
  readonly size?: number;
}

/** A memory-backed scratch directory for one step. `size` in bytes. */
export function tmpfs(
  target: string,
  options: {
    /** Size limit in bytes (Dockerfile `size=`). */
    readonly size?: number;
  } = {},
): TmpfsMount {
  return mount({ type: "tmpfs", target, ...options });
}

/** An SSH agent socket mount, made by `ssh()` (Dockerfile `RUN --mount=type=ssh[,id=…]`). */
export interface SshMount extends MountBase {
  /** Always `ssh`. */
  readonly type: "ssh";
  /** Which `--ssh` agent or key set to forward (default `default`). */
  readonly id?: string;
  /** The socket path the step sees (default `/run/buildkit/ssh_agent.<n>`; `SSH_AUTH_SOCK` points at it). */
  readonly target?: string;
  /** The build fails when no such agent is given (default: the step runs without it). */
  readonly required?: boolean;
  /** Owner uid of the socket (default 0). */
  readonly uid?: number;
  /** Owner gid of the socket (default 0). */
  readonly gid?: number;
  /** Permission bits of the socket (default `0o600`). */
  readonly mode?: number;
}

/** Forwards the SSH agent given to `strata build --ssh` (default id `default`) for one step. */
export function ssh(options: Omit<SshMount, "type" | typeof MOUNT> = {}): SshMount {
  return mount({ type: "ssh", ...options });
}

/** Whether a value is a RUN mount made by `cache()`, `secret()`, `bind()`, `tmpfs()` or `ssh()`. */
export function isRunMount(value: unknown): value is RunMount {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[MOUNT] === true;
}

function mount<T extends { type: string }>(m: T): T & MountBase {
  return Object.freeze({ ...m, [MOUNT]: true as const });
}

function stripFrom<T extends { from?: unknown }>(o: T): Omit<T, "from"> {
  const { from: _f, ...rest } = o;
  return rest;
}

function asCopyFrom(from: Image | CopyFrom): CopyFrom {
  if (isCopyFrom(from)) return from;
  return from.path("/");
}
