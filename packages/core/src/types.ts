import type { CacheSharing, PlatformString } from "@strata/graph";
import type { Arg } from "./arg.ts";
import type { RunMount } from "./mounts.ts";

/** A port: `8080`, `"8080/tcp"`, `"53/udp"`, a range `"8000-8010/tcp"`, or a numeric build arg. */
export type Port =
  | number
  | `${number}`
  | `${number}/${"tcp" | "udp" | "sctp"}`
  | `${number}-${number}`
  | `${number}-${number}/${"tcp" | "udp" | "sctp"}`
  | Arg<number>
  | Arg<string>;

/** A Go-style duration, as Docker takes them: `30s`, `1m30s`, `500ms`. */
export type Duration = `${number}${"ns" | "us" | "ms" | "s" | "m" | "h"}` | `${number}m${number}s` | `${number}h${number}m`;

/** A signal name (`SIGTERM`) or number (`15`). */
export type Signal = `SIG${string}` | number | Arg<string>;

/** An owner: `"app"`, `"app:app"`, `1000`, `{ user: 1000, group: 1000 }`. Names resolve in the image's /etc/passwd and /etc/group. */
export type Owner = string | number | { readonly user: string | number; readonly group?: string | number };

/** Permission bits: `0o755`, `"755"`, or symbolic `"u+x,go=r"` (Dockerfile --chmod). */
export type Mode = number | string;

/** A platform: typed (`linux/arm64`), or a build arg such as BUILDPLATFORM. */
export type PlatformSpec = PlatformString | Arg<string>;

export interface FromOptions {
  /** The platform to pull and run this stage as (Dockerfile `FROM --platform=`). */
  readonly platform?: PlatformSpec;
  /** Global build args the reference may read; default: every `arg()` declared so far. */
  readonly args?: readonly Arg<string | number | boolean>[];
}

export interface RunOptions {
  readonly mounts?: readonly RunMount[];
  /** `none` runs without a network; `host` shares the host's (needs --allow network.host). */
  readonly network?: "default" | "none" | "host";
  /** `insecure` runs with all capabilities (needs --allow security.insecure). */
  readonly security?: "sandbox" | "insecure";
}

export interface CopyOptions {
  readonly chown?: Owner;
  readonly chmod?: Mode;
  /** Build the copied files as an independent layer (Dockerfile `--link`). */
  readonly link?: boolean;
  /** Globs to leave out (Dockerfile `--exclude`). */
  readonly exclude?: readonly string[];
  /** Keep the source's parent directories under dest (Dockerfile `--parents`). */
  readonly parents?: boolean;
}

export interface AddOptions extends CopyOptions {
  /** Unpack local archives (default for ADD) or not. */
  readonly unpack?: boolean;
  /** Keep `.git` when adding a git repository. */
  readonly keepGitDir?: boolean;
}

export interface HealthcheckOptions {
  readonly interval?: Duration;
  readonly timeout?: Duration;
  readonly startPeriod?: Duration;
  readonly startInterval?: Duration;
  readonly retries?: number;
}

export type { CacheSharing };
