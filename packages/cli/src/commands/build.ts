import { existsSync, readdirSync } from "node:fs";
import { arch, cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { formatPlatform, parsePlatform, StrataError, type Platform } from "@strata/graph";
import type { CommandSpec, ParsedArgs } from "../argv.ts";
import { usageError } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { loadTarget } from "../load/load-target.ts";
import { strataHome } from "../load/strata-home.ts";
import { formatBytes, progressRenderer, type ProgressMode } from "../ui/progress.ts";
import { contextOptions, secretSources } from "./build-flags.ts";
import { registryOutputs } from "./build-push.ts";
import { makeResolvers } from "./build-resolvers.ts";
import { INSECURE_REGISTRY, registryMirror } from "./registry-flags.ts";

export const spec: CommandSpec = {
  name: "build",
  summary: "Build an image natively (no Docker daemon) from an image module or a Dockerfile.",
  usage: "strata build [FILE] [-t TAG...] [--target NAME] [--build-arg K=V...] [--output SPEC...] [--load] [options]",
  description:
    "FILE is a .image.ts module or a Dockerfile (default: the only *.image.ts here, else ./Dockerfile).\n" +
    "The image goes into Strata's store ($STRATA_HOME, default ~/.cache/strata); --output writes it\n" +
    "as a file or directory, --load hands it to the local Docker daemon. Builds are reproducible: every\n" +
    "timestamp is SOURCE_DATE_EPOCH (default 0), so the same inputs give the same image digest.\n" +
    "\n" +
    "Outputs: type=oci,dest=image.tar (OCI archive) | type=oci-layout,dest=DIR | type=docker,dest=image.tar\n" +
    "(docker load); add ,compression=gzip|uncompressed. Secrets: --secret id=npmrc,src=$HOME/.npmrc or\n" +
    "id=token,env=GITHUB_TOKEN; they reach only the steps that mount them, never a layer or the cache key.",
  positionals: { min: 0, max: 1 },
  options: [
    { name: "tag", short: "t", type: "list", placeholder: "NAME[:TAG]", description: "name the image (in the store, in outputs, for --load)" },
    { name: "target", type: "string", placeholder: "NAME", description: "the export or stage to build (default: the default export / last stage)" },
    { name: "build-arg", type: "list", placeholder: "K=V", description: "set a build arg" },
    { name: "platform", type: "string", placeholder: "OS/ARCH", description: "the platform to build for (default: this machine's)" },
    { name: "output", short: "o", type: "list", placeholder: "SPEC", description: "also write the image: type=oci|oci-layout|docker,dest=PATH[,compression=gzip|uncompressed], or push it: type=registry,name=REF" },
    { name: "load", type: "boolean", description: "load the image into the Docker daemon (docker load)" },
    { name: "no-cache", type: "boolean", description: "run every step again" },
    { name: "cache-from", type: "list", placeholder: "SPEC", description: "use a shared cache, in the order given: type=registry,ref=REF | type=local,src=DIR" },
    { name: "cache-to", type: "list", placeholder: "SPEC", description: "export the cache: type=registry,ref=REF | type=local,dest=DIR [,mode=min|max][,compression=gzip|uncompressed][,cache-mount-max=512m]" },
    { name: "progress", type: "string", values: ["auto", "tty", "plain", "json", "quiet"], description: "how to show progress (default auto)" },
    { name: "explain", type: "boolean", description: "for every cache miss, say what changed since the last build" },
    { name: "secret", type: "list", placeholder: "id=ID,src=FILE|env=VAR", description: "a secret for RUN --mount=type=secret" },
    { name: "ssh", type: "list", placeholder: "ID[=SOCKET]", description: "an SSH agent socket for RUN --mount=type=ssh (default: $SSH_AUTH_SOCK)" },
    { name: "context", type: "list", placeholder: "[NAME=]DIR", description: "the build context directory, or a named context" },
    { name: "executor", type: "string", values: ["auto", "runc", "sandbox"], description: "how RUN steps are isolated (default auto: runc, else the built-in sandbox)" },
    { name: "parallelism", type: "string", placeholder: "N", description: "RUN steps at once (default: number of cores)" },
    { name: "source-date-epoch", type: "string", placeholder: "SECONDS", description: "timestamp for every file and the config (default $SOURCE_DATE_EPOCH, else 0)" },
    { name: "push", type: "boolean", description: "push the image to the registry of each -t name" },
    { name: "locked", type: "boolean", description: "use the digests in strata.lock; fail if it is missing or stale" },
    { name: "image", type: "list", placeholder: "REF=SOURCE", description: "build REF from another source, e.g. node:22=oci-layout:./node22 or =registry:mirror/node:22" },
    registryMirror("pull"),
    INSECURE_REGISTRY,
    { name: "engine", type: "string", values: ["native", "docker"], description: "native (default) or docker: hand the exported Dockerfile to `docker build` (BuildKit)" },
    { name: "builder", type: "string", placeholder: "NAME", description: "with --engine docker: the buildx builder (remote or Kubernetes BuildKit)" },
    { name: "syntax", type: "string", values: ["latest", "dockerfile-1.4", "docker-20.10"], description: "with --engine docker: the Dockerfile syntax the engine reads (default: detected)" },
  ],
  examples: [
    "strata build examples/hello/hello.image.ts -t hello --load",
    "strata build Dockerfile --target build --build-arg VERSION=1.2.3 -o type=oci,dest=app.tar",
  ],
};

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const file = args.positionals[0] ?? defaultInput(ctx.cwd);
  const o = args.options;
  const tags = await normalizeTags((o.tag as string[] | undefined) ?? []);
  const buildArgs = keyValues((o["build-arg"] as string[] | undefined) ?? [], "--build-arg");
  const platform = o.platform ? parsePlatform(o.platform as string) : hostPlatform();
  const sde = o["source-date-epoch"] ?? ctx.env.SOURCE_DATE_EPOCH;
  const sourceDateEpoch = sde === undefined ? 0 : Number(sde);
  if (!Number.isInteger(sourceDateEpoch) || sourceDateEpoch < 0) throw usageError(`--source-date-epoch must be a whole number of seconds (got ${JSON.stringify(sde)})`, spec);
  const parallelism = o.parallelism ? Number(o.parallelism) : cpus().length;
  if (!Number.isInteger(parallelism) || parallelism < 1) throw usageError("--parallelism must be a positive whole number", spec);
  const contexts = contextOptions((o.context as string[] | undefined) ?? [], ctx.cwd);

  const { Store, buildImage, parseOutput } = await import("@strata/engine/light");
  const pushOutputs = registryOutputs((o.output as string[] | undefined) ?? []);
  const outputs = pushOutputs.rest.map((s) => parseOutput(s, ctx.cwd));
  const loaded = await loadTarget(file, o.target as string | undefined, ctx);
  if (o.engine === "docker") {
    const { buildWithDocker } = await import("./build-docker.ts");
    return buildWithDocker(args, ctx, loaded, { tags, buildArgs, platform, outputs });
  }
  const store = new Store(strataHome(ctx.env));
  const render = progressRenderer(((o.progress as string | undefined) ?? "auto") as ProgressMode, ctx.stderr, { isTty: ctx.isTty, color: ctx.color, cwd: ctx.cwd });
  const abort = new AbortController();
  const onSignal = () => abort.abort(new StrataError("STRATA_BUILD_ABORTED", "the build was interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const started = performance.now();
  try {
    const moduleDir = dirname(loaded.file);
    const list = (k: string) => (o[k] as string[] | undefined) ?? [];
    const resolvers = await makeResolvers(
      store,
      { moduleDir, file: loaded.file, locked: o.locked === true, overrides: list("image"), mirrors: list("registry-mirror"), insecure: list("insecure-registry") },
      ctx,
      render,
    );
    const { setupCacheShare } = await import("./build-cache.ts");
    const caches = await setupCacheShare(list("cache-from"), list("cache-to"), store, ctx, { insecure: list("insecure-registry"), signal: abort.signal });
    const result = await buildImage(store, loaded.graph, {
      ...(caches.share ? { cacheShare: caches.share } : {}),
      moduleDir,
      ...(contexts.main ? { contextDir: contexts.main } : {}),
      contexts: contexts.named,
      buildArgs,
      platform,
      buildPlatform: hostPlatform(),
      secrets: secretSources((o.secret as string[] | undefined) ?? [], ctx.cwd, spec),
      ssh: sshOptions((o.ssh as string[] | undefined) ?? [], ctx.env),
      noCache: o["no-cache"] === true,
      sourceDateEpoch,
      executor: ((o.executor as string | undefined) ?? "auto") as "auto",
      parallelism,
      registry: resolvers.registry,
      local: resolvers.local,
      progress: render,
      signal: abort.signal,
      ...(o.explain ? { explain: { target: `${loaded.file}#${loaded.name}` } } : {}),
      // A base image's ONBUILD triggers are Dockerfile instructions: the importer reads them.
      onbuild: async (triggers) => {
        const [{ importDockerfile }, { ONBUILD_BASE }] = await Promise.all([import("@strata/dockerfile"), import("@strata/engine/light")]);
        const imported = importDockerfile(`FROM ${ONBUILD_BASE}\n${triggers.join("\n")}\n`, { file: "(ONBUILD triggers of the base image)" });
        return imported.stages[imported.stages.length - 1]!.image.toGraph();
      },
      tags,
    });
    render.finish();
    const outputsModule = outputs.length || o.load ? await import("@strata/engine") : undefined;
    for (const out of outputs) await outputsModule!.writeOutput(store, result.image, out, tags);
    let loadedMsg = "";
    if (o.load) loadedMsg = await outputsModule!.loadIntoDocker(store, result.image, tags);
    if (o.push || pushOutputs.names.length) {
      const { pushImage } = await import("./build-push.ts");
      await pushImage(store, result.image, [...(o.push ? tags : []), ...pushOutputs.names], { insecure: list("insecure-registry") }, ctx);
    }
    await caches.exportAll(loaded.graph.image.rootfs, [...(o.push ? tags : []), ...pushOutputs.names]);
    const size = result.image.layers.reduce((n, l) => n + l.descriptor.size, 0);
    const secs = ((performance.now() - started) / 1000).toFixed(2);
    ctx.stderr(`built ${result.image.manifestDigest} (${formatPlatform(platform)}, ${result.image.layers.length} layers, ${formatBytes(size)}) in ${secs}s: ${result.built} steps run, ${result.cached} cached\n`);
    for (const t of tags) ctx.stderr(`  tagged ${t}\n`);
    for (const out of outputs) ctx.stderr(`  wrote ${out.type} to ${out.dest}\n`);
    if (loadedMsg) ctx.stderr(`  ${loadedMsg.split("\n").join("\n  ")}\n`);
    ctx.stdout(`${result.image.manifestDigest}\n`);
    return 0;
  } finally {
    render.finish();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function defaultInput(cwd: string): string {
  const modules = readdirSync(cwd).filter((f) => f.endsWith(".image.ts"));
  if (modules.length === 1) return modules[0]!;
  if (existsSync(join(cwd, "Dockerfile"))) return "Dockerfile";
  throw usageError(modules.length ? `several image modules here (${modules.join(", ")}): name one` : "no FILE given and no *.image.ts or Dockerfile here", spec);
}

export function hostPlatform(): Platform {
  const map: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };
  return { os: "linux", architecture: map[arch()] ?? arch() };
}

function keyValues(list: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf("=");
    if (eq <= 0) {
      // `--build-arg NAME` takes the value from the environment, as docker does.
      if (eq < 0 && process.env[kv] !== undefined) out[kv] = process.env[kv]!;
      else if (eq < 0) continue;
      else throw usageError(`${flag} ${kv}: expected NAME=VALUE`, spec);
      continue;
    }
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

function sshOptions(list: readonly string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of list) {
    const eq = s.indexOf("=");
    if (eq > 0) out[s.slice(0, eq)] = resolve(s.slice(eq + 1));
    else if (env.SSH_AUTH_SOCK) out[s] = env.SSH_AUTH_SOCK;
  }
  return out;
}

/** `app` → `app:latest`, as docker names images; invalid names are usage errors up front. */
async function normalizeTags(tags: readonly string[]): Promise<string[]> {
  if (!tags.length) return [];
  const { parseReference, familiarString } = await import("@strata/registry");
  return tags.map((t) => {
    try {
      const ref = parseReference(t);
      if (ref.digest !== undefined) throw new Error("a tag cannot contain a digest");
      return familiarString(ref.tag === undefined ? { ...ref, tag: "latest" } : ref);
    } catch (e) {
      throw usageError(`-t ${t}: ${(e as Error).message}`, spec);
    }
  });
}
