import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { formatPlatform, imageDigest, opDigest, referencedImages, StrataError, type LayerGraph, type Platform } from "@strata/graph";
import type { Entitlement, OutputSpec } from "@strata/engine";
import type { DockerfileSyntax } from "@strata/dockerfile";
import type { ParsedArgs } from "../argv.ts";
import { usageError } from "../argv.ts";
import type { CliContext } from "../context.ts";
import type { LoadedTarget } from "../load/load-target.ts";
import { strataHome } from "../load/strata-home.ts";
import { formatBytes, progressRenderer, type ProgressMode } from "../ui/progress.ts";
import { detectEngine, dockerClient, dockerOk, notRunnable, type DockerClient } from "./build-docker-client.ts";
import { contextDirectory, writeBuildContext } from "./build-docker-context.ts";
import { buildFailure } from "./build-docker-errors.ts";
import { loadBaseImages, resolveBaseImages } from "./build-docker-images.ts";
import { writeDockerOutputs } from "./build-docker-outputs.ts";
import { PlainProgress } from "./build-docker-progress.ts";
import { hostPlatform, spec } from "./build.ts";
import { contextOptions, secretSources } from "./build-flags.ts";

export interface DockerEngineOptions {
  readonly tags: readonly string[];
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly platform: Platform;
  readonly outputs: readonly OutputSpec[];
  /** `--allow` entitlements, checked here first (same errors as the native engine), then passed to buildx. */
  readonly allow?: readonly Entitlement[];
}

/** Options of `strata build` that only the native engine has (docker's daemon configures its own). */
const NATIVE_ONLY = ["locked", "image", "registry-mirror", "insecure-registry", "executor", "parallelism", "explain", "source-date-epoch"];

/**
 * `strata build --engine docker`: the target's graph is exported as a Dockerfile in a syntax the
 * engine reads (rewritten where an older syntax needs another spelling of the same image), its
 * local base images are loaded into the daemon, a build context holding just what the graph
 * reads is written, and `docker build` (BuildKit; `docker buildx build` when buildx is there)
 * runs it, its progress shown as Strata's and its errors mapped back to the `.image.ts` lines.
 */
export async function buildWithDocker(args: ParsedArgs, ctx: CliContext, loaded: LoadedTarget, opts: DockerEngineOptions): Promise<number> {
  const o = args.options;
  for (const flag of NATIVE_ONLY) {
    if (o[flag] !== undefined) throw usageError(`--${flag} is an option of the native engine; it does nothing with --engine docker`, spec);
  }
  const allow = opts.allow ?? [];
  const { checkGraphEntitlements } = await import("@strata/engine/light");
  checkGraphEntitlements(loaded.graph, allow);
  const started = performance.now();
  const client = dockerClient(ctx.env);
  const engine = await detectEngine(client, o.builder as string | undefined);
  if (allow.length > 0 && !engine.buildx) {
    throw new StrataError("STRATA_ENTITLEMENT_NEEDS_BUILDX", `--allow ${allow.join(",")} needs docker buildx; this docker client has no buildx`, {
      hint: "install the docker buildx plugin, or build with the native engine",
    });
  }
  const cacheFlags = dockerCacheFlags((o["cache-from"] as string[] | undefined) ?? [], (o["cache-to"] as string[] | undefined) ?? [], engine.buildx);
  const syntax = ((o.syntax as string | undefined) ?? engine.syntax) as DockerfileSyntax;
  const render = progressRenderer(((o.progress as string | undefined) ?? "auto") as ProgressMode, ctx.stderr, { isTty: ctx.isTty, color: ctx.color, cwd: ctx.cwd });
  const now = () => Math.round(performance.now() - started);
  render({ type: "info", at: now(), message: `building with ${engine.description}, Dockerfile syntax ${syntax}${o.syntax ? ` (--syntax; the engine's is ${engine.syntax})` : ""}` });

  const graph = loaded.graph;
  const moduleDir = dirname(loaded.file);
  const { predefinedArgs } = await import("@strata/engine");
  const evalCtx = { buildArgs: opts.buildArgs, predefined: predefinedArgs(opts.platform, hostPlatform()) };
  const bases = await resolveBaseImages(client, graph, { moduleDir, evalCtx, platform: opts.platform });

  const { exportDockerfile } = await import("@strata/dockerfile");
  const exported = exportDockerfile(graph, {
    syntax,
    fidelity: "image",
    ...(loaded.all.kind === "image-module" && loaded.name !== "default" ? { targetName: loaded.name } : {}),
    ...(loaded.all.kind === "dockerfile" && !/^\d+$/.test(loaded.name) ? { targetName: loaded.name } : {}),
    stageNames: namesByDigest(loaded.all.targets, graph),
    localImageName: (s) => bases.localNames.get(opDigest(s)),
    baseShell: (s) => bases.shells.get(opDigest(s)),
  });
  for (const name of await loadBaseImages(client, bases)) render({ type: "info", at: now(), message: `loaded a local base image into the daemon as ${name}` });

  const work = mkdtempSync(join(ctx.env.TMPDIR ?? tmpdir(), "strata-docker-"));
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let held: { dir: string; release(): void } | undefined;
  try {
    const dockerfile = join(work, "Dockerfile");
    writeFileSync(dockerfile, exported.dockerfile);
    // An ignore file beside the Dockerfile wins over the context's: a `.dockerignore` that the
    // graph copies as a file must not filter the build (the native engine does not apply it).
    writeFileSync(`${dockerfile}.dockerignore`, "");
    const contexts = contextOptions((o.context as string[] | undefined) ?? [], ctx.cwd);
    held = contextDirectory(strataHome(ctx.env), `${loaded.file}\u0000${loaded.name}\u0000${contexts.main ?? ""}`, join(work, "context"));
    const contextDir = held.dir;
    const { syntaxFeatures } = await import("@strata/dockerfile");
    const sent = await writeBuildContext(graph, contextDir, { moduleDir, contextDir: contexts.main, contextFiles: exported.contextFiles, refuseArchiveChown: !syntaxFeatures(syntax).addChownArchives });
    render({ type: "info", at: now(), message: `build context: ${sent.files} files, ${formatBytes(sent.bytes)}` });

    const iidfile = join(work, "iid");
    const argv = [
      ...(engine.buildx ? ["buildx", "build", ...(engine.builder !== undefined ? ["--builder", engine.builder] : []), "--load"] : ["build"]),
      "--progress=plain",
      "-f",
      dockerfile,
      "--iidfile",
      iidfile,
      ...opts.tags.flatMap((t) => ["-t", t]),
      ...Object.entries(opts.buildArgs).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
      ...(o.platform ? ["--platform", formatPlatform(opts.platform)] : []),
      ...(o["no-cache"] ? ["--no-cache"] : []),
      ...allow.flatMap((a) => ["--allow", a]),
      ...cacheFlags,
      ...secretFlags((o.secret as string[] | undefined) ?? [], ctx, work),
      ...((o.ssh as string[] | undefined) ?? []).flatMap((s) => ["--ssh", s]),
      contextDir,
    ];
    const progress = new PlainProgress(exported, render, now);
    const code = await runBuild(client, argv, progress, abort.signal);
    render.finish();
    if (abort.signal.aborted) throw new StrataError("STRATA_BUILD_ABORTED", "the build was interrupted");
    if (code !== 0) throw buildFailure(progress, exported, loaded.file);
    const imageId = readFileSync(iidfile, "utf8").trim();

    await writeDockerOutputs(client, imageId, opts.outputs, opts.tags);
    if (o.push) for (const t of opts.tags) await dockerOk(client, ["push", t], `docker push ${t}`);
    const steps = [...progress.vertices.values()].filter((v) => v.step);
    const built = steps.filter((v) => v.state === "done").length;
    const cached = steps.filter((v) => v.state === "cached").length;
    const secs = ((performance.now() - started) / 1000).toFixed(2);
    ctx.stderr(`built ${imageId} with docker ${engine.serverVersion} (${formatPlatform(opts.platform)}) in ${secs}s: ${built} steps run, ${cached} cached\n`);
    for (const t of opts.tags) ctx.stderr(`  tagged ${t}${o.push ? " (pushed)" : ""}\n`);
    for (const out of opts.outputs) ctx.stderr(`  wrote ${out.type} to ${out.dest}\n`);
    ctx.stdout(`${imageId}\n`);
    return 0;
  } finally {
    render.finish();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    held?.release();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * `--cache-from` / `--cache-to` for the docker engine. buildx takes both as written (its own
 * cache format, not Strata's; `cache-mount-max` is Strata's alone). Plain `docker build`
 * (BuildKit without buildx) has only `--cache-from IMAGE`, which reads an image's inline cache:
 * a registry reference passes through, everything else is refused with a hint.
 */
export function dockerCacheFlags(from: readonly string[], to: readonly string[], buildx: boolean): string[] {
  const out: string[] = [];
  for (const f of from) {
    const kv = new Map(f.split(",").map((p) => p.split("=", 2) as [string, string]));
    const type = f.includes("=") ? (kv.get("type") ?? "registry") : "registry";
    if (buildx) out.push("--cache-from", f);
    else if (type === "registry") out.push("--cache-from", f.includes("=") ? (kv.get("ref") ?? f) : f);
    else throw usageError(`--cache-from ${f}: docker build without buildx reads only images' inline cache (--cache-from type=registry,ref=IMAGE)`, spec);
  }
  for (const t of to) {
    if (!buildx) {
      throw new StrataError("STRATA_USAGE", `--cache-to ${t}: docker build without buildx cannot export a cache`, {
        hint: "install docker buildx (or pass --builder), build with the native engine, or embed an inline cache with --build-arg BUILDKIT_INLINE_CACHE=1 and --push",
      });
    }
    if (/(^|,)cache-mount-max=/.test(t)) throw usageError(`--cache-to ${t}: cache-mount-max= is the native engine's (buildx never exports cache mounts)`, spec);
    out.push("--cache-to", t);
  }
  return out;
}

/** Runs the build, feeding its progress (stderr; stdout too, where buildx prints) to the parser. */
function runBuild(client: DockerClient, argv: readonly string[], progress: PlainProgress, signal: AbortSignal): Promise<number> {
  return new Promise((res, rej) => {
    const child = spawn(client.bin, argv, { env: client.env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.setEncoding("utf8").on("data", (c: string) => progress.push(c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => progress.push(c));
    const kill = () => child.kill("SIGINT");
    signal.addEventListener("abort", kill, { once: true });
    child.on("error", (e) => rej(notRunnable(client, e)));
    child.on("close", (code) => {
      signal.removeEventListener("abort", kill);
      progress.end();
      res(code ?? 1);
    });
  });
}

/** `--secret` flags for docker; `env=VAR` becomes a private file (docker 20.10 reads only files). */
function secretFlags(list: readonly string[], ctx: CliContext, work: string): string[] {
  const out: string[] = [];
  for (const [id, source] of Object.entries(secretSources(list, ctx.cwd, spec))) {
    if ("file" in source) {
      out.push("--secret", `id=${id},src=${source.file}`);
      continue;
    }
    const value = ctx.env[source.env];
    if (value === undefined) continue; // as natively: absent unless the step requires it
    const file = join(work, `secret-${out.length}`);
    writeFileSync(file, value, { mode: 0o600 });
    out.push("--secret", `id=${id},src=${file}`);
  }
  return out;
}

/** Export names of a module's other targets, by image digest, to name the stages they become. */
function namesByDigest(targets: ReadonlyMap<string, LayerGraph>, graph: LayerGraph): Map<string, string> {
  const wanted = new Set(referencedImages(graph).map(imageDigest));
  const names = new Map<string, string>();
  for (const [name, g] of targets) if (name !== "default" && !/^\d+$/.test(name) && wanted.has(g.digest)) names.set(g.digest, name);
  return names;
}
