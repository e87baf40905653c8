import type { CacheSharing } from "@strata/graph";
import type { Image } from "./image.ts";
import { isCopyFrom, type CopyFrom } from "./sources.ts";

const MOUNT = Symbol.for("strata.mount");

/** A mount for one `run` step (Dockerfile `RUN --mount=…`); build with cache(), secret(), bind(), tmpfs(), ssh(). */
export type RunMount = CacheMount | SecretMount | BindMount | TmpfsMount | SshMount;

interface MountBase {
  readonly [MOUNT]: true;
}

export interface CacheMount extends MountBase {
  readonly type: "cache";
  readonly target: string;
  readonly id?: string;
  readonly sharing?: CacheSharing;
  readonly from?: CopyFrom;
  readonly readonly?: boolean;
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
}

export interface CacheOptions {
  /** Cache identity (default: the target path). Steps with the same id share the cache. */
  readonly id?: string;
  /** `shared` (default): concurrent writers; `private`: a fresh copy per writer; `locked`: one writer at a time. */
  readonly sharing?: CacheSharing;
  /** Seed the cache from a path in another image or context (Dockerfile `from=`/`source=`). */
  readonly from?: Image | CopyFrom;
  readonly readonly?: boolean;
  readonly uid?: number;
  readonly gid?: number;
  /** Octal permission bits of the cache directory, e.g. `0o755`. */
  readonly mode?: number;
}

/** A persistent cache directory (never part of a layer): `cache("/root/.npm")`. */
export function cache(target: string, options: CacheOptions = {}): CacheMount {
  return mount({ type: "cache", target, ...stripFrom(options), ...(options.from ? { from: asCopyFrom(options.from) } : {}) });
}

export interface SecretMount extends MountBase {
  readonly type: "secret";
  readonly id: string;
  readonly target?: string;
  readonly env?: string;
  readonly required?: boolean;
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
}

export interface SecretOptions {
  /** Mount as this file (default `/run/secrets/<id>`). */
  readonly target?: string;
  /** Expose as this environment variable instead of (or as well as) a file. */
  readonly env?: string;
  /** Fail the build if the secret is not given (default false: the step runs without it). */
  readonly required?: boolean;
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
}

/**
 * A secret given to `strata build --secret id=…,src=…|env=…`. It is readable during the step
 * only and never lands in a layer, the history or the cache key.
 */
export function secret(id: string, options: SecretOptions = {}): SecretMount {
  return mount({ type: "secret", id, ...options });
}

export interface BindMount extends MountBase {
  readonly type: "bind";
  readonly target: string;
  readonly from?: CopyFrom;
  readonly readwrite?: boolean;
}

/**
 * Mounts a directory from the context or another image for one step (read-only unless
 * `readwrite`; writes are discarded either way): `bind(context().path("src"), "/src")`.
 */
export function bind(from: Image | CopyFrom, target: string, options: { readonly readwrite?: boolean } = {}): BindMount {
  return mount({ type: "bind", target, from: asCopyFrom(from), ...options });
}

export interface TmpfsMount extends MountBase {
  readonly type: "tmpfs";
  readonly target: string;
  readonly size?: number;
}

/** A memory-backed scratch directory for one step. `size` in bytes. */
export function tmpfs(target: string, options: { readonly size?: number } = {}): TmpfsMount {
  return mount({ type: "tmpfs", target, ...options });
}

export interface SshMount extends MountBase {
  readonly type: "ssh";
  readonly id?: string;
  readonly target?: string;
  readonly required?: boolean;
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
}

/** Forwards the SSH agent given to `strata build --ssh` (default id `default`) for one step. */
export function ssh(options: Omit<SshMount, "type" | typeof MOUNT> = {}): SshMount {
  return mount({ type: "ssh", ...options });
}

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
