import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { StrataError } from "@strata/graph";
import { writeDockerArchive, writeOciLayout, type OciImage } from "@strata/oci";
import type { Store } from "../store/store.ts";
import { withCompression, type Compression } from "./compress.ts";

/** `--output type=…,dest=…[,compression=…]`. */
export interface OutputSpec {
  readonly type: "oci" | "oci-layout" | "docker";
  readonly dest: string;
  readonly compression?: Compression;
}

const TYPES = new Set(["oci", "oci-layout", "docker", "tar", "local"]);

/** Parses `type=oci,dest=out.tar,compression=gzip` (docker's --output syntax); a bare path means an OCI archive. */
export function parseOutput(text: string, cwd: string): OutputSpec {
  if (!text.includes("=")) return { type: "oci", dest: resolve(cwd, text) };
  const kv = new Map(text.split(",").map((p) => p.split("=", 2) as [string, string]));
  const type = kv.get("type") ?? "oci";
  const dest = kv.get("dest");
  if (!TYPES.has(type) || type === "tar" || type === "local") {
    throw new StrataError("STRATA_USAGE", `unsupported output type ${JSON.stringify(type)}`, { hint: "use type=oci (tar), type=oci-layout (directory) or type=docker (docker load tar)" });
  }
  if (!dest) throw new StrataError("STRATA_USAGE", `--output ${text}: dest= is required`, { hint: "e.g. --output type=oci,dest=image.tar" });
  const compression = kv.get("compression");
  if (compression !== undefined && compression !== "gzip" && compression !== "uncompressed") {
    throw new StrataError("STRATA_USAGE", `unsupported compression ${JSON.stringify(compression)}`, { hint: "gzip or uncompressed" });
  }
  return { type: type as OutputSpec["type"], dest: resolve(cwd, dest), ...(compression ? { compression } : {}) };
}

/**
 * Writes an image where the user asked: an OCI archive or layout (gzip layers by default, as
 * registries expect), or a docker-archive (uncompressed by default: what `docker load` reads
 * fastest). Files are written atomically by the format writers.
 */
export async function writeOutput(store: Store, image: OciImage, out: OutputSpec, tags: readonly string[]): Promise<void> {
  if (out.type === "docker") {
    const img = await withCompression(store, image, out.compression ?? "uncompressed", "docker");
    await writeDockerArchive([{ image: img, tags }], { file: out.dest });
    return;
  }
  const img = await withCompression(store, image, out.compression ?? "gzip", "oci");
  const ref = tags[0];
  await writeOciLayout([{ image: img, ...(ref ? { ref } : {}) }], out.type === "oci-layout" ? { dir: out.dest } : { file: out.dest });
}

/** `--load`: streams a docker-archive into `docker load` (the daemon from DOCKER_HOST, or the local one). */
export async function loadIntoDocker(store: Store, image: OciImage, tags: readonly string[], docker = process.env.STRATA_DOCKER ?? "/usr/bin/docker"): Promise<string> {
  const img = await withCompression(store, image, "uncompressed", "docker");
  const child = spawn(docker, ["load"], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number>((res, rej) => {
    child.on("error", (e) => rej(new StrataError("STRATA_LOAD_FAILED", `cannot run ${docker}: ${e.message}`, { hint: "install Docker or use --output type=docker,dest=image.tar" })));
    child.on("close", (code) => res(code ?? 1));
  });
  const written = writeDockerArchive([{ image: img, tags }], { stream: child.stdin }).then(() => child.stdin.end());
  const [code] = await Promise.all([exited, written.catch((e) => { child.kill(); throw e; })]);
  if (code !== 0) throw new StrataError("STRATA_LOAD_FAILED", `docker load failed: ${err.trim() || out.trim()}`, { hint: "is dockerd running? (`docker info`)" });
  return out.trim();
}
