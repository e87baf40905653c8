import { cpus } from "node:os";
import { dirname, resolve } from "node:path";
import { formatPlatform, parsePlatform, StrataError } from "@strata/graph";
import type { CommandSpec, ParsedArgs } from "../argv.ts";
import { usageError } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { loadTarget } from "../load/load-target.ts";
import { strataHome } from "../load/strata-home.ts";
import { jsonLine } from "../ui/json-progress.ts";
import { formatBytes, progressRenderer, type ProgressMode } from "../ui/progress.ts";
import { hostPlatform, type OciImage } from "@strata/oci";
import { contextOptions, secretSources } from "./build-flags.ts";
import { buildInput, splitList, stageOwnOps } from "./build-input.ts";
import { BUILDX_OPTIONS, DOCKER_ONLY_FLAGS } from "./build-options.ts";
import { buildMetadata, writeFileAtomic } from "./build-report.ts";
import { registryOutputs, type PushReport } from "./build-push.ts";
import { makeResolvers } from "./build-resolvers.ts";
import { INSECURE_REGISTRY, registryMirror } from "./registry-flags.ts";

export const spec: CommandSpec = {
  name: "build",
  summary: "Build an image natively (no Docker daemon) from an image module or a Dockerfile.",
  usage: "strata build [FILE|DIR] [-f FILE] [-t TAG...] [--target NAME[,NAME…]] [--build-arg K=V...] [-o SPEC...] [--load] [--push] [options]",
  description:
    "FILE is a .image.ts module or a Dockerfile (default: the only *.image.ts here, else ./Dockerfile). As with\n" +
    "docker, -f FILE names the file (any name) and the argument is then the context directory; a directory\n" +
    "argument alone is the context, with its Dockerfile or single *.image.ts.\n" +
    "The image goes into Strata's store ($STRATA_HOME, default ~/.cache/strata); stdout's last line is its image\n" +
    "ID (the config digest docker shows after --load). Builds are reproducible: every timestamp is\n" +
    "SOURCE_DATE_EPOCH (default 0), so the same inputs give the same image digest.\n" +
    "\n" +
    "Outputs (as buildx; -o repeats): PATH = type=local,dest=PATH (the final filesystem as files) | - =\n" +
    "type=tar,dest=- (as a tar on stdout) | type=tar,dest=FILE | type=oci,dest=FILE|- (OCI archive) |\n" +
    "type=oci-layout,dest=DIR | type=docker,dest=FILE|- (docker load) | type=docker (= --load) |\n" +
    "type=registry,name=REF (= push); add ,compression=gzip|uncompressed to oci/docker.\n" +
    "--metadata-file writes buildx's keys (containerimage.digest, containerimage.config.digest,\n" +
    "containerimage.descriptor, image.name). --progress json|rawjson: JSON Lines only on stderr (schema in\n" +
    "the README). Secrets: --secret id=npmrc,src=$HOME/.npmrc or id=token,env=GITHUB_TOKEN; they reach only\n" +
    "the steps that mount them, never a layer or the cache key. A docker build flag Strata lacks is a usage error.",
  positionals: { min: 0, max: 1 },
  unsupported: DOCKER_ONLY_FLAGS,
  options: [
    ...BUILDX_OPTIONS,
    { name: "tag", short: "t", type: "list", placeholder: "NAME[:TAG]", description: "name the image (in the store, in outputs, for --load)" },
    { name: "target", type: "list", placeholder: "NAME[,NAME…]", description: "the export or stage to build (default: the default export / last stage); several build in one run, shared steps once" },
    { name: "build-arg", type: "list", placeholder: "K=V", description: "set a build arg" },
    { name: "platform", type: "list", placeholder: "OS/ARCH", description: "the platform to build for (default: this machine's; one platform: several are issue 14)" },
    { name: "output", short: "o", type: "list", placeholder: "SPEC", description: "also write the result: PATH (= type=local,dest=PATH), - (= type=tar,dest=-), type=local|tar|oci|oci-layout|docker,dest=PATH|-, or push it: type=registry,name=REF" },
    { name: "load", type: "boolean", description: "load the image into the Docker daemon (docker load)" },
    { name: "no-cache", type: "boolean", description: "run every step again" },
    { name: "cache-from", type: "list", placeholder: "SPEC", description: "use a shared cache, in the order given: type=registry,ref=REF | type=local,src=DIR" },
    { name: "cache-to", type: "list", placeholder: "SPEC", description: "export the cache: type=registry,ref=REF | type=local,dest=DIR [,mode=min|max][,compression=gzip|uncompressed][,cache-mount-max=512m]" },
    { name: "progress", type: "string", values: ["auto", "tty", "plain", "json", "rawjson", "quiet"], description: "how to show progress on stderr (default auto); json/rawjson: JSON Lines only, schema in the README" },
    { name: "explain", type: "boolean", description: "for every cache miss, say what changed since the last build" },
    { name: "secret", type: "list", placeholder: "id=ID,src=FILE|env=VAR", description: "a secret for RUN --mount=type=secret" },
    { name: "ssh", type: "list", placeholder: "ID[=SOCKET]", description: "an SSH agent socket for RUN --mount=type=ssh (default: $SSH_AUTH_SOCK)" },
    { name: "context", type: "list", placeholder: "[NAME=]DIR", description: "the build context directory, or a named context" },
    { name: "executor", type: "string", values: ["auto", "runc", "sandbox"], description: "how RUN steps are isolated (default auto: runc, else crun, else the built-in sandbox where it can apply the seccomp filter)" },
    { name: "allow", type: "list", placeholder: "ENTITLEMENT", description: "let RUN steps use network.host (RUN --network=host) or security.insecure (RUN --security=insecure); repeatable or comma-separated" },
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
    "strata build -f ci/app.docker . --target dist -o out/",
    "strata build . -t registry.example.com/app:1 --push --metadata-file meta.json",
    "strata build Dockerfile --target build --build-arg VERSION=1.2.3 -o type=oci,dest=app.tar",
  ],
};

/**
 * The whole build — loading modules and base images, the solve, outputs, `--load`, push and
 * tags — holds the store's shared lock, so `strata cache prune` never runs in the middle of it.
 */
export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const { Store, acquireBuildLock } = await import("@strata/engine/light");
  const store = new Store(strataHome(ctx.env));
  const json = args.options.progress === "json" || args.options.progress === "rawjson";
  const release = await acquireBuildLock(store, {
    onWait: (pid) => ctx.stderr(json ? jsonLine("info", { at: 0, message: `waiting for strata cache prune (pid ${pid})` }) : `waiting for strata cache prune (pid ${pid})…\n`),
  });
  try {
    return await build(args, ctx, store);
  } finally {
    release();
  }
}

async function build(args: ParsedArgs, ctx: CliContext, store: import("@strata/engine").Store): Promise<number> {
  const o = args.options;
  const list = (k: string) => (o[k] as string[] | undefined) ?? [];
  const input = buildInput(args.positionals[0], o.file as string | undefined, ctx.cwd, spec);
  const tags = await normalizeTags(list("tag"));
  const buildArgs = keyValues(list("build-arg"), "--build-arg");
  const labels = labelValues(list("label"));
  const platforms = splitList(list("platform"));
  if (platforms.length > 1) throw usageError(`--platform ${platforms.join(",")}: several platforms are not supported yet (issue 14)`, spec);
  const platform = platforms[0] ? parsePlatform(platforms[0]) : hostPlatform();
  const targets = splitList(list("target"));
  const sde = o["source-date-epoch"] ?? ctx.env.SOURCE_DATE_EPOCH;
  const sourceDateEpoch = sde === undefined ? 0 : Number(sde);
  if (!Number.isInteger(sourceDateEpoch) || sourceDateEpoch < 0) throw usageError(`--source-date-epoch must be a whole number of seconds (got ${JSON.stringify(sde)})`, spec);
  const parallelism = o.parallelism ? Number(o.parallelism) : cpus().length;
  if (!Number.isInteger(parallelism) || parallelism < 1) throw usageError("--parallelism must be a positive whole number", spec);
  const named = namedContexts(list("build-context"), ctx.cwd);
  const contexts = contextOptions(list("context"), ctx.cwd);
  if (input.contextDir && contexts.main) throw usageError("the context directory is given twice (the argument and --context DIR)", spec);
  const contextDir = contexts.main ?? input.contextDir;
  const quiet = o.quiet === true;
  const json = !quiet && (o.progress === "json" || o.progress === "rawjson");
  // JSON progress: stderr carries only JSON Lines; other text (warnings) becomes `message` records.
  const textCtx: CliContext = json ? { ...ctx, stderr: (text) => ctx.stderr(jsonLine("message", { text: text.replace(/\n$/, "") })) } : ctx;

  const { buildImage, parseOutput, checkOutputs, parseEntitlements, STDOUT_DEST } = await import("@strata/engine/light");
  const allow = parseEntitlements(list("allow"));
  const pushOutputs = registryOutputs(list("output"));
  const parsed = pushOutputs.rest.map((s) => parseOutput(s, ctx.cwd));
  const outputs = parsed.filter((p): p is Exclude<typeof p, "load"> => p !== "load");
  checkOutputs(outputs);
  const load = o.load === true || parsed.includes("load");
  const toStdout = outputs.some((out) => out.dest === STDOUT_DEST);
  if (targets.length > 1 && (tags.length || outputs.length || load || o.push || pushOutputs.names.length || o.iidfile || o["metadata-file"])) {
    throw usageError(`several targets (${targets.join(", ")}) are built, not named or exported: -t, --output, --load, --push, --iidfile and --metadata-file need one target`, spec);
  }
  const loadOpts = { ...(contextDir ? { contextDir } : {}), anyName: input.anyName, namedContexts: [...Object.keys(named.dirs), ...Object.keys(contexts.named)] };
  const loadedAll = [];
  for (const t of targets.length ? targets : [undefined]) loadedAll.push(await loadTarget(input.file, t, textCtx, loadOpts));
  const loaded = loadedAll[0]!;
  if (o.engine === "docker") {
    if (targets.length > 1 || toStdout || outputs.some((out) => out.type === "local" || out.type === "tar") || o["build-context"] || o.label || o.iidfile || o["metadata-file"] || o["no-cache-filter"]) {
      throw usageError("--engine docker does not support several targets, stdout or local/tar outputs, --build-context, --label, --iidfile, --metadata-file or --no-cache-filter yet", spec);
    }
    const { buildWithDocker } = await import("./build-docker.ts");
    // Its progress is already JSON records; its summary lines become `message` records.
    const dockerCtx: CliContext = json ? { ...ctx, stderr: (text) => (text.startsWith('{"v":') ? ctx.stderr(text) : textCtx.stderr(text)) } : ctx;
    return buildWithDocker(args, dockerCtx, loaded, { tags, buildArgs, platform, outputs, allow });
  }
  const mode = quiet ? "quiet" : (((o.progress as string | undefined) ?? "auto") as ProgressMode);
  const render = progressRenderer(mode, ctx.stderr, { isTty: ctx.isTty, color: ctx.color, cwd: ctx.cwd });
  const abort = new AbortController();
  const onSignal = () => abort.abort(new StrataError("STRATA_BUILD_ABORTED", "the build was interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const started = performance.now();
  const say = quiet || json ? () => {} : ctx.stderr;
  try {
    const moduleDir = dirname(loaded.file);
    const resolvers = await makeResolvers(
      store,
      { moduleDir, file: loaded.file, locked: o.locked === true, overrides: [...list("image"), ...named.images], mirrors: list("registry-mirror"), insecure: list("insecure-registry"), ...(o.pull ? { pull: true } : {}) },
      textCtx,
      render,
    );
    const { setupCacheShare } = await import("./build-cache.ts");
    const caches = await setupCacheShare(list("cache-from"), list("cache-to"), store, ctx, { insecure: list("insecure-registry"), signal: abort.signal });
    const noCacheOps = stageOwnOps(loaded.all.targets, splitList(list("no-cache-filter")), spec);
    const ids: string[] = [];
    let last: { image: OciImage; built: number; cached: number } | undefined;
    for (const one of loadedAll) {
      last = await buildImage(store, one.graph, {
        ...(caches.share ? { cacheShare: caches.share } : {}),
        moduleDir,
        ...(contextDir ? { contextDir } : {}),
        contexts: { ...named.dirs, ...contexts.named },
        buildArgs,
        platform,
        buildPlatform: hostPlatform(),
        secrets: secretSources(list("secret"), ctx.cwd, spec),
        ssh: sshOptions(list("ssh"), ctx.env),
        noCache: o["no-cache"] === true,
        ...(noCacheOps.size ? { noCacheOps } : {}),
        sourceDateEpoch,
        executor: ((o.executor as string | undefined) ?? "auto") as "auto",
        allow,
        parallelism,
        registry: resolvers.registry,
        local: resolvers.local,
        progress: render,
        signal: abort.signal,
        ...(o.explain ? { explain: { target: `${one.file}#${one.name}` } } : {}),
        // A base image's ONBUILD triggers are Dockerfile instructions: the importer reads them.
        onbuild: async (triggers) => {
          const [{ importDockerfile }, { ONBUILD_BASE }] = await Promise.all([import("@strata/dockerfile"), import("@strata/engine/light")]);
          const imported = importDockerfile(`FROM ${ONBUILD_BASE}\n${triggers.join("\n")}\n`, { file: "(ONBUILD triggers of the base image)" });
          return imported.stages[imported.stages.length - 1]!.image.toGraph();
        },
        tags,
        labels,
      });
      ids.push(last.image.manifest.config.digest);
      if (loadedAll.length > 1) say(`built target ${one.name}: ${last.image.manifest.config.digest} (${last.built} steps run, ${last.cached} cached)\n`);
    }
    render.finish();
    const result = last!;
    const outputsModule = outputs.length || load ? await import("@strata/engine") : undefined;
    for (const out of outputs) await outputsModule!.writeOutput(store, result.image, out, tags, ctx.stdoutStream);
    let loadedMsg = "";
    if (load) loadedMsg = await outputsModule!.loadIntoDocker(store, result.image, tags);
    let pushed: PushReport | undefined;
    if (o.push || pushOutputs.names.length) {
      const { pushImage } = await import("./build-push.ts");
      pushed = await pushImage(store, result.image, [...(o.push ? tags : []), ...pushOutputs.names], { insecure: list("insecure-registry") }, { ...ctx, stderr: say });
    }
    const imageId = result.image.manifest.config.digest;
    if (o.iidfile) writeFileAtomic(ctx.cwd, o.iidfile as string, imageId);
    if (o["metadata-file"]) writeFileAtomic(ctx.cwd, o["metadata-file"] as string, `${JSON.stringify(buildMetadata(result.image, [...tags, ...pushOutputs.names], pushed), null, 2)}\n`);
    await caches.exportAll(loadedAll.at(-1)!.graph.image.rootfs, [...(o.push ? tags : []), ...pushOutputs.names]);
    const size = result.image.layers.reduce((n, l) => n + l.descriptor.size, 0);
    const secs = ((performance.now() - started) / 1000).toFixed(2);
    say(`built ${imageId} (${formatPlatform(platform)}, ${result.image.layers.length} layers, ${formatBytes(size)}) in ${secs}s: ${result.built} steps run, ${result.cached} cached\n`);
    say(`  manifest ${result.image.manifestDigest}${pushed ? ` (pushed: ${pushed.digest})` : ""}\n`);
    for (const t of tags) say(`  tagged ${t}\n`);
    for (const out of outputs) say(`  wrote ${out.type} to ${out.dest === STDOUT_DEST ? "stdout" : out.dest}\n`);
    if (loadedMsg) say(`  ${loadedMsg.split("\n").join("\n  ")}\n`);
    if (json) {
      ctx.stderr(
        jsonLine("summary", {
          imageId,
          ids,
          manifest: result.image.manifestDigest,
          platform: formatPlatform(platform),
          layers: result.image.layers.length,
          bytes: size,
          seconds: Number(secs),
          built: result.built,
          cached: result.cached,
          tags,
          outputs: outputs.map((out) => ({ type: out.type, dest: out.dest })),
          ...(load ? { loaded: loadedMsg } : {}),
          ...(pushed ? { pushed: pushed.refs.map((name) => ({ name, digest: pushed!.digest })) } : {}),
        }),
      );
    }
    // The image ID is stdout's last line (as `docker build` prints it), unless stdout carries an output.
    if (!toStdout) ctx.stdout(ids.map((id) => `${id}\n`).join(""));
    return 0;
  } finally {
    render.finish();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** This machine's platform in OCI terms: @strata/oci's, the one every package uses. */
export { hostPlatform };

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

function labelValues(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw usageError(`--label ${kv}: expected KEY=VALUE`, spec);
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/**
 * `--build-context NAME=DIR` is a named context; `NAME=docker-image://REF` and
 * `NAME=oci-layout://PATH` make `FROM NAME` / `COPY --from=NAME` read that image instead.
 */
function namedContexts(list: readonly string[], cwd: string): { dirs: Record<string, string>; images: string[] } {
  const dirs: Record<string, string> = {};
  const images: string[] = [];
  for (const item of list) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw usageError(`--build-context ${item}: expected NAME=PATH, NAME=docker-image://REF or NAME=oci-layout://PATH`, spec);
    const name = item.slice(0, eq);
    const value = item.slice(eq + 1);
    const scheme = /^([a-z-]+):\/\/(.*)$/.exec(value);
    if (!scheme) dirs[name] = resolve(cwd, value);
    else if (scheme[1] === "docker-image") images.push(`${name}=registry:${scheme[2]}`);
    else if (scheme[1] === "oci-layout") images.push(`${name}=oci-layout:${resolve(cwd, scheme[2]!)}`);
    else throw usageError(`--build-context ${item}: ${scheme[1]}:// contexts are not supported (use a directory, docker-image:// or oci-layout://)`, spec);
  }
  return { dirs, images };
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
