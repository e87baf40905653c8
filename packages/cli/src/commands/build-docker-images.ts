import { spawn } from "node:child_process";
import { basename, isAbsolute, resolve } from "node:path";
import {
  DEFAULT_SHELL,
  opDigest,
  parsePlatform,
  resolveLocation,
  ScopeState,
  StrataError,
  type Digest,
  type EvalContext,
  type LayerGraph,
  type Platform,
  type SourceOp,
} from "@strata/graph";
import type { OciImage } from "@strata/oci";
import { notRunnable, runDocker, type DockerClient } from "./build-docker-client.ts";

/** The images a graph starts from, as the daemon will know them. */
export interface BaseImages {
  /** The name a local-transport image was loaded under (by source op digest). */
  readonly localNames: ReadonlyMap<Digest, string>;
  /** The SHELL of each image source (by source op digest), when known. */
  readonly shells: ReadonlyMap<Digest, readonly string[]>;
  /** Local images the daemon does not have yet: {@link loadBaseImages} loads them. */
  readonly missing: readonly { readonly image: OciImage; readonly name: string; readonly op: SourceOp }[];
}

/**
 * Images of local transports (`ociLayout(…)`, `ociArchive(…)`, `dockerArchive(…)`) have no
 * Dockerfile spelling, so they are loaded into the daemon (see loadBaseImages) — a
 * docker-archive streamed into `docker load` — under a name derived from their config digest
 * (their image ID there), and FROM names that: the daemon then has exactly the bytes the native
 * engine reads. `dockerDaemon(…)` images are in the daemon already. Registry images are left to
 * the daemon; their SHELL is read when the daemon has them (it is needed only to write a
 * multi-line script in exec form).
 */
export async function resolveBaseImages(
  client: DockerClient,
  graph: LayerGraph,
  opts: { readonly moduleDir: string; readonly evalCtx: EvalContext; readonly platform: Platform },
): Promise<BaseImages> {
  const localNames = new Map<Digest, string>();
  const shells = new Map<Digest, readonly string[]>();
  const missing: { image: OciImage; name: string; op: SourceOp }[] = [];
  const inspected = new Map<string, Promise<readonly string[] | undefined>>();
  for (const op of graph.nodes.values()) {
    if (op.kind !== "SourceOp" || op.source.type !== "image") continue;
    const s = op.source;
    const state = new ScopeState(opts.evalCtx, {}, { implicitPredefined: true }).applyAll(s.scope ?? []);
    const ref = state.expand(s.ref);
    const platform = s.platform !== undefined ? parsePlatform(state.expand(s.platform)) : opts.platform;
    const id = opDigest(op);
    if (s.transport === "oci-layout" || s.transport === "oci-archive" || s.transport === "docker-archive") {
      const { splitPathRef } = await import("@strata/engine");
      const image = await readLocalImage(s.transport, ref, opts.moduleDir, platform, op);
      const name = localName(s.transport, splitPathRef(ref).path, image.manifest.config.digest);
      if ((await imageId(client, name)) !== image.manifest.config.digest) missing.push({ image, name, op });
      localNames.set(id, name);
      shells.set(id, image.config.config?.Shell ?? DEFAULT_SHELL);
      continue;
    }
    if (s.transport === "docker-daemon") {
      // Already in the daemon (the one DOCKER_HOST names, which the native engine reads too).
      if ((await imageId(client, ref)) === undefined) {
        throw new StrataError("STRATA_IMAGE_NOT_FOUND", `the Docker daemon has no image ${JSON.stringify(ref)}`, { locations: [resolveLocation(op.meta)], hint: "check `docker images`" });
      }
      localNames.set(id, ref);
    } else if (ref === "scratch" && !s.transport) {
      shells.set(id, DEFAULT_SHELL);
      continue;
    }
    let shell = inspected.get(ref);
    if (!shell) {
      shell = configuredShell(client, ref);
      inspected.set(ref, shell);
    }
    const known = await shell;
    if (known) shells.set(id, known);
  }
  return { localNames, shells, missing };
}

/** Loads the local images the daemon lacks (after the export succeeded: a refusal loads nothing). */
export async function loadBaseImages(client: DockerClient, bases: BaseImages): Promise<string[]> {
  for (const m of bases.missing) await loadImage(client, m.image, m.name, m.op);
  return bases.missing.map((m) => m.name);
}

async function readLocalImage(transport: "oci-layout" | "oci-archive" | "docker-archive", ref: string, moduleDir: string, platform: Platform, op: SourceOp): Promise<OciImage> {
  const { readDockerArchive, readOciLayout } = await import("@strata/oci");
  const { splitPathRef } = await import("@strata/engine");
  const { path, ref: tag } = splitPathRef(ref);
  const abs = isAbsolute(path) ? path : resolve(moduleDir, path);
  try {
    return transport === "docker-archive" ? await readDockerArchive(abs, tag ? { tag } : {}) : await readOciLayout(abs, { ...(tag ? { ref: tag } : {}), platform });
  } catch (e) {
    const err = e instanceof StrataError ? e : new StrataError("STRATA_IMAGE_NOT_FOUND", `cannot read ${transport}:${ref}: ${(e as Error).message}`);
    throw err.withLocation(resolveLocation(op.meta));
  }
}

/** `strata-local/busybox:oci-layout-<12 hex of the config digest>`: stable, readable, never a registry name. */
function localName(transport: string, path: string, configDigest: Digest): string {
  const stem =
    basename(path)
      .toLowerCase()
      .replace(/\.(tar|tgz|tar\.gz)$/, "")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "") || "image";
  return `strata-local/${stem}:${transport}-${configDigest.slice("sha256:".length, "sha256:".length + 12)}`;
}

async function imageId(client: DockerClient, name: string): Promise<string | undefined> {
  const r = await runDocker(client, ["image", "inspect", "--format", "{{.Id}}", name]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

async function configuredShell(client: DockerClient, ref: string): Promise<readonly string[] | undefined> {
  const r = await runDocker(client, ["image", "inspect", "--format", "{{json .Config.Shell}}", ref]);
  if (r.code !== 0) return undefined;
  const shell = JSON.parse(r.stdout.trim() || "null") as string[] | null;
  return shell?.length ? shell : DEFAULT_SHELL;
}

/** Streams the image as a docker-archive into `docker load`, tagged `name`. */
async function loadImage(client: DockerClient, image: OciImage, name: string, op: SourceOp): Promise<void> {
  const { writeDockerArchive } = await import("@strata/oci");
  const child = spawn(client.bin, ["load"], { env: client.env, stdio: ["pipe", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  child.stdout.resume();
  const exited = new Promise<number>((res, rej) => {
    child.on("error", (e) => rej(notRunnable(client, e)));
    child.on("close", (code) => res(code ?? 1));
  });
  const written = writeDockerArchive([{ image, tags: [name] }], { stream: child.stdin }).then(() => child.stdin.end());
  const [code] = await Promise.all([
    exited,
    written.catch((e: unknown) => {
      child.kill();
      throw e;
    }),
  ]);
  if (code !== 0) {
    throw new StrataError("STRATA_DOCKER_LOAD_FAILED", `loading the base image into the daemon (docker load) failed: ${err.trim()}`, {
      locations: [resolveLocation(op.meta)],
      hint: "a local image (ociLayout, dockerArchive) must be loaded into the daemon that builds; is it reachable?",
    });
  }
}
