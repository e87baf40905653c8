import type { PlatformString, SIGNAL_NAMES } from "@strata/graph";
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

/** Linux's signal names, as Docker knows them (`TERM`, written `SIGTERM` or `TERM`). */
export type SignalName = (typeof SIGNAL_NAMES)[number];

/** A signal name (`SIGTERM`, `TERM`, `SIGRTMIN+3`) or number (`15`); anything else is a type error, and a coded error at run time. */
export type Signal = `SIG${SignalName}` | SignalName | `SIGRTMIN+${number}` | `SIGRTMAX-${number}` | number | Arg<string>;

type Digit = "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9";
type IsDigits<S extends string> = S extends `${Digit}${infer R}` ? (R extends "" ? true : IsDigits<R>) : false;
type Chars<S extends string, C extends 0[] = []> = S extends `${string}${infer R}` ? Chars<R, [...C, 0]> : C;
/** `A` ≤ `B` for digit strings of one length: the first differing digit decides. */
type DigitsLe<A extends string, B extends string> = A extends `${infer a}${infer ar}`
  ? B extends `${infer b}${infer br}`
    ? a extends b
      ? DigitsLe<ar, br>
      : "0123456789" extends `${string}${a}${string}${b}${string}`
        ? true
        : false
    : true
  : true;
type NumLe<A extends string, B extends string> = Chars<A>["length"] extends Chars<B>["length"] ? DigitsLe<A, B> : Chars<B> extends [...Chars<A>, ...0[]] ? true : false;
type AllZero<S extends string> = S extends `0${infer R}` ? (R extends "" ? true : AllZero<R>) : false;
type PortNumberOk<S extends string> = IsDigits<S> extends true ? (AllZero<S> extends true ? false : NumLe<S, "65535">) : false;
type PortRangeOk<S extends string> = S extends `${infer A}-${infer B}`
  ? PortNumberOk<A> extends true
    ? PortNumberOk<B> extends true
      ? NumLe<A, B>
      : false
    : false
  : PortNumberOk<S>;
type PortSpecOk<S extends string> = S extends `${infer N}/${infer P}` ? (P extends "tcp" | "udp" | "sctp" ? PortRangeOk<N> : false) : PortRangeOk<S>;
/** True for a string literal type, false for `string` and template types such as `${number}`. */
// biome-ignore lint/complexity/noBannedTypes: `{}` (no required keys) is what tells a literal key from `string`
type IsLiteral<S extends string> = {} extends Record<S, 1> ? false : true;

/**
 * A port checked where its value is a literal: `expose(99999)`, `"70000/tcp"` and
 * `"9000-8000"` are type errors (1–65535, ranges ascending); values only known at run time
 * (a `number`, a build arg) are checked when the image is built.
 */
export type CheckPort<P> = P extends number
  ? number extends P
    ? P
    : PortSpecOk<`${P}`> extends true
      ? P
      : never
  : P extends string
    ? IsLiteral<P> extends true
      ? PortSpecOk<P> extends true
        ? P
        : never
      : P
    : P;

/** Every port of a call, each checked by CheckPort. */
export type CheckPorts<P extends readonly unknown[]> = { [K in keyof P]: CheckPort<P[K]> };

/** An owner: `"app"`, `"app:app"`, `1000`, `{ user: 1000, group: 1000 }`. Names resolve in the image's /etc/passwd and /etc/group. */
export type Owner =
  | string
  | number
  | {
      /** User name or uid. */
      readonly user: string | number;
      /** Group name or gid; left out, the group is the user's uid as a number (Docker's rule for `--chown=user`). */
      readonly group?: string | number;
    };

/** Permission bits: `0o755`, `"755"`, or symbolic `"u+x,go=r"` (Dockerfile --chmod). */
export type Mode = number | string;

/** A platform: typed (`linux/arm64`), or a build arg such as BUILDPLATFORM. */
export type PlatformSpec = PlatformString | Arg<string>;

/** Options of `from(ref, options)` (Dockerfile `FROM [--platform=…] ref`). */
export interface FromOptions {
  /** The platform to pull and run this stage as (Dockerfile `FROM --platform=`). */
  readonly platform?: PlatformSpec;
  /** Global build args the reference may read; default: every `arg()` declared so far. */
  readonly args?: readonly Arg<string | number | boolean>[];
}

/**
 * Options of `image.run(command, options)` (Dockerfile `RUN --mount=… --network=… --security=…`).
 *
 * @example
 * base.run("npm ci", { mounts: [cache("/root/.npm")], network: "default" })
 */
export interface RunOptions {
  /** What the step sees mounted while it runs and that never lands in the layer: `cache()`, `secret()`, `bind()`, `tmpfs()`, `ssh()` (Dockerfile `RUN --mount=…`). */
  readonly mounts?: readonly RunMount[];
  /** `none` runs without a network; `host` shares the host's (needs --allow network.host). */
  readonly network?: "default" | "none" | "host";
  /** `insecure` runs with all capabilities (needs --allow security.insecure). */
  readonly security?: "sandbox" | "insecure";
}

/**
 * Options of `image.copy(src, dest, options)` (Dockerfile `COPY --chown --chmod --link --exclude --parents`).
 *
 * @example
 * base.copy("dist/", "/app/", { chown: "app:app", chmod: 0o755, exclude: ["*.map"] })
 */
export interface CopyOptions {
  /** Owner of the copied files and the directories created for them (Dockerfile `--chown`); default root (0:0). Names resolve in the image's /etc/passwd and /etc/group. */
  readonly chown?: Owner;
  /** Permission bits of the copied files (Dockerfile `--chmod`): `0o755`, `"755"`, or symbolic `"u+x"`; default: the source's. */
  readonly chmod?: Mode;
  /** Build the copied files as an independent layer (Dockerfile `--link`). */
  readonly link?: boolean;
  /** Globs to leave out (Dockerfile `--exclude`). */
  readonly exclude?: readonly string[];
  /** Keep the source's parent directories under dest (Dockerfile `--parents`). */
  readonly parents?: boolean;
}

/**
 * Options of `image.add(src, dest, options)` (Dockerfile `ADD`): those of COPY, plus what ADD does
 * with archives and git repositories.
 */
export interface AddOptions extends CopyOptions {
  /** Unpack local archives (default for ADD) or not. */
  readonly unpack?: boolean;
  /** Keep `.git` when adding a git repository. */
  readonly keepGitDir?: boolean;
}

/**
 * Options of `image.healthcheck(command, options)` (Dockerfile `HEALTHCHECK --interval --timeout
 * --start-period --start-interval --retries CMD …`). Left out, each takes Docker's default.
 *
 * @example
 * app.healthcheck(["wget", "-qO-", "http://localhost:8080/health"], { interval: "10s", retries: 5 })
 */
export interface HealthcheckOptions {
  /** Time between checks (Dockerfile `--interval`); Docker's default `30s`. */
  readonly interval?: Duration;
  /** A check running longer than this counts as failed (Dockerfile `--timeout`); default `30s`. */
  readonly timeout?: Duration;
  /** Grace time after the container starts during which failures do not count (Dockerfile `--start-period`); default `0s`. */
  readonly startPeriod?: Duration;
  /** Time between checks during the start period (Dockerfile `--start-interval`, Docker 25+); default `5s`. */
  readonly startInterval?: Duration;
  /** Consecutive failures after which the container is unhealthy (Dockerfile `--retries`); default `3`. */
  readonly retries?: number;
}
