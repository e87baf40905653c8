import { spawn } from "node:child_process";
import { StrataError } from "@strata/graph";
import type { DockerfileSyntax } from "@strata/dockerfile";

/**
 * The docker CLI as `--engine docker` uses it: `/usr/bin/docker` (or `$STRATA_DOCKER`) with
 * `DOCKER_BUILDKIT=1`, in the caller's environment, so `DOCKER_HOST`, `DOCKER_CONTEXT` and
 * `DOCKER_CONFIG` pick the daemon as they do for docker itself.
 */
export interface DockerClient {
  readonly bin: string;
  readonly env: NodeJS.ProcessEnv;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function dockerClient(env: NodeJS.ProcessEnv): DockerClient {
  return { bin: env.STRATA_DOCKER ?? "/usr/bin/docker", env: { ...env, DOCKER_BUILDKIT: "1" } };
}

/** Runs docker to completion (output collected); `input` is written to its stdin. */
export function runDocker(client: DockerClient, args: readonly string[], opts: { input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(client.bin, args, { env: client.env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", (e) => reject(notRunnable(client, e)));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }));
    child.stdin.end(opts.input ?? "");
  });
}

/** Like runDocker, failing with a coded error (and docker's message) on a non-zero exit. */
export async function dockerOk(client: DockerClient, args: readonly string[], what: string, opts: { input?: string } = {}): Promise<string> {
  const r = await runDocker(client, args, opts);
  if (r.code !== 0) throw new StrataError("STRATA_DOCKER_FAILED", `${what} failed: ${(r.stderr.trim() || r.stdout.trim()).split("\n").slice(-5).join("\n")}`, { hint: `the command was: docker ${args.join(" ")}` });
  return r.stdout;
}

export function notRunnable(client: DockerClient, e: Error): StrataError {
  return new StrataError("STRATA_DOCKER_UNAVAILABLE", `cannot run ${client.bin}: ${e.message}`, {
    hint: "install the docker CLI (or set STRATA_DOCKER to its path), or build natively (--engine native)",
  });
}

/** What `--engine docker` builds with. */
export interface EngineInfo {
  /** The daemon's version (`20.10.24`). */
  readonly serverVersion: string;
  /** `docker buildx` is installed: builds go through `docker buildx build`. */
  readonly buildx: boolean;
  /** The buildx builder (`--builder`), when one was named. */
  readonly builder?: string;
  /** BuildKit's version when buildx reports it (`v0.12.5`). */
  readonly buildkitVersion?: string;
  /** The Dockerfile syntax the engine's built-in frontend reads. */
  readonly syntax: DockerfileSyntax;
  /** One line for the progress output. */
  readonly description: string;
}

/**
 * Finds out what will build: the daemon (which also answers for DOCKER_HOST), whether buildx
 * is there, and which Dockerfile syntax the built-in frontend reads. A `# syntax=` directive
 * would make BuildKit pull a frontend image (no good offline), so the level comes from the
 * engine's version, conservatively: Docker 20.10 and unknown BuildKits get `docker-20.10`.
 */
export async function detectEngine(client: DockerClient, builder: string | undefined): Promise<EngineInfo> {
  const v = await runDocker(client, ["version", "--format", "{{.Server.Version}}"]);
  if (v.code !== 0) {
    throw new StrataError("STRATA_DOCKER_UNAVAILABLE", `the Docker daemon does not answer: ${(v.stderr.trim() || v.stdout.trim()).split("\n").pop()}`, {
      hint: "start dockerd, or point DOCKER_HOST at a daemon (see `docker info`); or build natively (--engine native)",
    });
  }
  const serverVersion = v.stdout.trim();
  const buildx = (await runDocker(client, ["buildx", "version"])).code === 0;
  if (builder !== undefined && !buildx) {
    throw new StrataError("STRATA_DOCKER_NO_BUILDX", `--builder ${builder} needs the docker buildx plugin, which is not installed`, {
      hint: "install buildx (docker-buildx-plugin), or use DOCKER_HOST to build on another daemon",
    });
  }
  let buildkitVersion: string | undefined;
  if (buildx) {
    const inspect = await runDocker(client, ["buildx", "inspect", ...(builder !== undefined ? [builder] : [])]);
    if (inspect.code !== 0 && builder !== undefined) {
      throw new StrataError("STRATA_DOCKER_NO_BUILDER", `no buildx builder ${JSON.stringify(builder)}: ${inspect.stderr.trim()}`, { hint: "list builders with `docker buildx ls`; create one with `docker buildx create`" });
    }
    buildkitVersion = /^\s*Buildkit:\s*(v?[0-9][^\s]*)/im.exec(inspect.stdout)?.[1];
  }
  const syntax = syntaxFor(serverVersion, buildkitVersion);
  const via = buildx ? `buildx${builder !== undefined ? ` builder ${builder}` : ""}${buildkitVersion ? `, BuildKit ${buildkitVersion}` : ""}` : "BuildKit";
  return {
    serverVersion,
    buildx,
    ...(builder !== undefined ? { builder } : {}),
    ...(buildkitVersion !== undefined ? { buildkitVersion } : {}),
    syntax,
    description: `docker ${serverVersion} (${via})`,
  };
}

/** BuildKit 0.10+ (Docker 23+) has Dockerfile 1.4 built in; older ones have 1.2 (Docker 20.10). */
function syntaxFor(serverVersion: string, buildkitVersion: string | undefined): DockerfileSyntax {
  if (buildkitVersion !== undefined) {
    const m = /^v?(\d+)\.(\d+)/.exec(buildkitVersion);
    if (m) return Number(m[1]) > 0 || Number(m[2]) >= 10 ? "dockerfile-1.4" : "docker-20.10";
    return "docker-20.10";
  }
  const major = Number(/^(\d+)\./.exec(serverVersion)?.[1] ?? 0);
  return major >= 23 ? "dockerfile-1.4" : "docker-20.10";
}
