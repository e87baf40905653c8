import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { StrataError } from "@strata/graph";
import { writeDockerArchive, writeOciLayout, type OciImage } from "@strata/oci";
import type { Store } from "../store/store.ts";
import { withCompression, type Compression } from "./compress.ts";

/**
 * `--output type=…,dest=…[,compression=…]`, as buildx reads it. `dest` is an absolute path,
 * or `-` (stdout) for the archive types.
 */
export interface OutputSpec {
  /** local: the final filesystem as files; tar: as one tar; oci / oci-layout / docker: the image. */
  readonly type: "local" | "tar" | "oci" | "oci-layout" | "docker";
  readonly dest: string;
  readonly compression?: Compression;
}

/** The `dest` of an output written to standard output. */
export const STDOUT_DEST = "-";

const KEYS: Readonly<Record<OutputSpec["type"], readonly string[]>> = {
  local: ["type", "dest"],
  tar: ["type", "dest"],
  oci: ["type", "dest", "compression"],
  "oci-layout": ["type", "dest", "compression"],
  docker: ["type", "dest", "compression"],
};

const usage = (message: string, hint: string) => new StrataError("STRATA_USAGE", message, { hint });

/**
 * Parses an `--output` value as buildx does: `PATH` is `type=local,dest=PATH`, `-` is
 * `type=tar,dest=-`, and `type=…,dest=…` names the exporter (type defaults to local).
 * `type=docker` without `dest` means `--load`, and is returned as `"load"`.
 */
export function parseOutput(text: string, cwd: string): OutputSpec | "load" {
  if (text === STDOUT_DEST) return { type: "tar", dest: STDOUT_DEST };
  if (!text.includes("=")) return { type: "local", dest: resolve(cwd, text) };
  const kv = new Map<string, string>();
  for (const part of text.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw usage(`--output ${text}: ${JSON.stringify(part)} is not KEY=VALUE`, "e.g. --output type=local,dest=out");
    kv.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const type = kv.get("type") ?? "local";
  if (!(type in KEYS)) {
    throw usage(`--output ${text}: unsupported output type ${JSON.stringify(type)}`, "use type=local|tar (the filesystem), type=oci|oci-layout|docker (the image), or type=registry,name=REF (a push)");
  }
  const t = type as OutputSpec["type"];
  for (const k of kv.keys()) {
    if (!KEYS[t].includes(k)) throw usage(`--output ${text}: type=${t} has no option ${JSON.stringify(k)}`, `its options: ${KEYS[t].join(", ")}`);
  }
  const dest = kv.get("dest");
  if (!dest) {
    if (t === "docker") return "load";
    throw usage(`--output ${text}: dest= is required`, `e.g. --output type=${t},dest=${t === "local" || t === "oci-layout" ? "out" : "-"}`);
  }
  if (dest === STDOUT_DEST && (t === "local" || t === "oci-layout")) throw usage(`--output ${text}: a directory cannot go to stdout`, "use type=tar,dest=- (the filesystem) or type=oci,dest=- (the image)");
  const compression = kv.get("compression");
  if (compression !== undefined && compression !== "gzip" && compression !== "uncompressed") {
    throw usage(`unsupported compression ${JSON.stringify(compression)}`, "gzip or uncompressed");
  }
  return { type: t, dest: dest === STDOUT_DEST ? STDOUT_DEST : resolve(cwd, dest), ...(compression ? { compression } : {}) };
}

/** Refuses several outputs to stdout (their bytes would interleave). */
export function checkOutputs(outputs: readonly OutputSpec[]): void {
  if (outputs.filter((o) => o.dest === STDOUT_DEST).length > 1) throw usage("only one --output can write to stdout (dest=-)", "write the others to files");
}

/**
 * Writes an image where the user asked: the final filesystem as a directory or a tar, an OCI
 * archive or layout (gzip layers by default, as registries expect), or a docker-archive
 * (uncompressed by default: what `docker load` reads fastest). Files and directories are
 * written atomically; `dest=-` streams to `stdout`.
 */
export async function writeOutput(store: Store, image: OciImage, out: OutputSpec, tags: readonly string[], stdout: NodeJS.WritableStream = process.stdout): Promise<void> {
  const file = out.dest === STDOUT_DEST ? { stream: stdout } : { file: out.dest };
  switch (out.type) {
    // The rootfs writers load the layer views lazily: the light entry (parseOutput) stays light.
    case "local":
      return (await import("./rootfs.ts")).writeRootfsDir(store, image, out.dest);
    case "tar":
      return (await import("./rootfs.ts")).writeRootfsTar(store, image, file);
    case "docker": {
      const img = await withCompression(store, image, out.compression ?? "uncompressed", "docker");
      await writeDockerArchive([{ image: img, tags }], file);
      return;
    }
    case "oci":
    case "oci-layout": {
      const img = await withCompression(store, image, out.compression ?? "gzip", "oci");
      const ref = tags[0];
      await writeOciLayout([{ image: img, ...(ref ? { ref } : {}) }], out.type === "oci-layout" ? { dir: out.dest } : file);
    }
  }
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
