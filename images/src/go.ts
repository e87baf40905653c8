import { cache, context, from, scratch, type Arg, type ArgValue, type CopyFrom, type Directory, type Image } from "@strata/core";

/** Go release lines with official `golang` images; a typo is a compile error. */
export type GoVersion = "1.22" | "1.23" | "1.24";

/**
 * Options of `goBuild()`.
 *
 * @example
 * const build = goBuild({ version: "1.24", pkg: "./cmd/api" });
 * export default staticImage(build.path("/out/app"));
 */
export interface GoBuildOptions {
  /** The Go release line: `"1.24"` builds in `golang:1.24`. */
  readonly version: GoVersion;
  /** The module source (default: the build context). */
  readonly src?: Directory;
  /** The package to build, e.g. `./cmd/api`. */
  readonly pkg: `./${string}` | ".";
  /** Output path of the binary inside the build image. */
  readonly output?: `/${string}`;
  /** Build with cgo (default false: a static binary that runs on scratch). */
  readonly cgo?: boolean;
  /** Flags for the linker (`go build -ldflags="…"`), e.g. `-s -w -X main.version=${VERSION}`. */
  readonly ldflags?: string;
  /** Build args the build step reads (e.g. a version stamped in with ldflags); declared in the stage. */
  readonly args?: readonly Arg<ArgValue>[];
}

/** A Go build stage with module and build caches; the binary is at `output` (default `/out/app`). */
export function goBuild(options: GoBuildOptions): Image {
  const out = options.output ?? "/out/app";
  const src = options.src ?? context();
  const caches = [cache("/go/pkg/mod", { id: "gomod" }), cache("/root/.cache/go-build", { id: "gobuild" })];
  let stage = from(`golang:${options.version}`).workdir("/src");
  for (const a of options.args ?? []) stage = stage.arg(a);
  return stage
    // go.sum as a wildcard: a module without dependencies has none (an unmatched wildcard beside
    // go.mod is not an error).
    .copy(src.files("go.mod", "go.su[m]"), "./")
    .run("go mod download", { mounts: caches })
    .copy(src, ".")
    .env("CGO_ENABLED", options.cgo ? "1" : "0")
    .run(`go build -trimpath${options.ldflags ? ` -ldflags="${options.ldflags}"` : ""} -o ${out} ${options.pkg}`, { mounts: caches });
}

/** Options of `staticImage()`: where the binary goes, who runs it, and its default arguments. */
export interface StaticImageOptions {
  /** Where the binary goes in the final image. */
  readonly path?: `/${string}`;
  /** Numeric user to run as (scratch images have no /etc/passwd). Default 65532 (nonroot). */
  readonly uid?: number;
  /** Arguments always passed to the binary (they follow it in the ENTRYPOINT). */
  readonly args?: readonly string[];
}

/** A minimal image: just a static binary on scratch, run as a non-root uid. */
export function staticImage(binary: CopyFrom, options: StaticImageOptions = {}): Image {
  const path = options.path ?? "/app";
  const uid = options.uid ?? 65532;
  return scratch()
    .copy(binary, path, { chmod: 0o755 })
    .user({ user: uid, group: uid })
    .entrypoint([path, ...(options.args ?? [])]);
}
