import { DEFAULT_MAX_WORD_BYTES, formatPlatform, limitFromEnv, MAX_WORD_BYTES_ENV, ScopeState, type EvalContext, type ImageConfig, type Platform, type Scope } from "@strata/graph";
import type { SolveOptions } from "./options.ts";

/** The values BuildKit gives the predefined platform args. */
export function predefinedArgs(target: Platform, build: Platform): Record<string, string> {
  return {
    TARGETPLATFORM: formatPlatform(target),
    TARGETOS: target.os,
    TARGETARCH: target.architecture,
    TARGETVARIANT: target.variant ?? "",
    BUILDPLATFORM: formatPlatform(build),
    BUILDOS: build.os,
    BUILDARCH: build.architecture,
    BUILDVARIANT: build.variant ?? "",
  };
}

export function evalContext(opts: Pick<SolveOptions, "buildArgs" | "platform" | "buildPlatform">): EvalContext {
  return { buildArgs: opts.buildArgs, predefined: predefinedArgs(opts.platform, opts.buildPlatform), maxWordBytes: limitFromEnv(MAX_WORD_BYTES_ENV, DEFAULT_MAX_WORD_BYTES, process.env) };
}

/** The state an op's templates expand in: the base image's Env and WorkingDir, then the op's scope. */
export function scopeState(ctx: EvalContext, base: ImageConfig | undefined, scope: Scope): ScopeState {
  return new ScopeState(ctx, { env: base?.Env, workdir: base?.WorkingDir }).applyAll(scope);
}

/** Joins a path onto a working directory (absolute paths win). */
export function resolvePath(cwd: string, path: string): string {
  if (path.startsWith("/")) return path;
  return `${cwd.replace(/\/+$/, "")}/${path}`;
}
