import { statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { StrataError } from "@strata/graph";
import type { ExecMount } from "../executor/index.ts";

/** Docker's size suffixes for `tmpfs-size` (bytes, k, m, g; case-insensitive). */
const SIZE = /^(\d+)([bkmg]?)$/i;

/**
 * `-v HOST:CTR[:ro|rw]` as `docker run` reads it: HOST must be an absolute path (or start with
 * `.`/`~`, resolved against `cwd`/HOME, which docker does not do but every user expects) that
 * exists; a bare name is a docker named volume, which Strata has not (a coded error, never a
 * silently created directory).
 */
export function parseVolume(spec: string, cwd: string): ExecMount {
  const parts = spec.split(":");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === "")) {
    throw new StrataError("STRATA_RUN_BAD_VOLUME", `-v ${JSON.stringify(spec)} is not HOST:CONTAINER[:ro|rw]`, { hint: "for example -v \"$PWD/data:/data:ro\"" });
  }
  const [host, target, mode] = parts as [string, string, string | undefined];
  const opts = (mode ?? "rw").split(",");
  for (const o of opts) {
    if (o !== "ro" && o !== "rw") {
      throw new StrataError("STRATA_RUN_BAD_VOLUME", `-v ${JSON.stringify(spec)}: option ${JSON.stringify(o)} is not supported`, { hint: "use ro or rw" });
    }
  }
  if (!isAbsolute(host) && !host.startsWith(".") && !host.startsWith("~")) {
    throw new StrataError("STRATA_RUN_BAD_VOLUME", `-v ${JSON.stringify(spec)}: ${JSON.stringify(host)} is a named volume, which strata run does not have`, {
      hint: "bind a host directory by its path (-v /abs/dir:/data or -v ./dir:/data), or use --mount type=tmpfs",
    });
  }
  return { type: "bind", source: hostPath(host, cwd, `-v ${spec}`), target: containerPath(target, `-v ${spec}`), readonly: opts.includes("ro") };
}

/**
 * `--mount type=bind,source=…,target=…[,readonly]` and `--mount type=tmpfs,target=…[,tmpfs-size=…]`,
 * with docker's key aliases (src, dst/destination, ro). Unknown keys and types are errors.
 */
export function parseMount(spec: string, cwd: string): ExecMount {
  const kv = new Map<string, string>();
  for (const field of spec.split(",")) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? "true" : field.slice(eq + 1);
    const canonical = ({ src: "source", dst: "target", destination: "target", ro: "readonly" } as Record<string, string>)[key] ?? key;
    if (kv.has(canonical)) throw new StrataError("STRATA_RUN_BAD_MOUNT", `--mount ${JSON.stringify(spec)}: ${key} given twice`);
    kv.set(canonical, value);
  }
  const type = kv.get("type") ?? "volume";
  const target = kv.get("target");
  if (!target) throw new StrataError("STRATA_RUN_BAD_MOUNT", `--mount ${JSON.stringify(spec)} has no target`, { hint: "type=bind,source=/host/dir,target=/data" });
  const allowed: Record<string, readonly string[]> = { bind: ["type", "source", "target", "readonly"], tmpfs: ["type", "target", "tmpfs-size"] };
  if (!allowed[type]) {
    throw new StrataError("STRATA_RUN_BAD_MOUNT", `--mount type=${type} is not supported`, { hint: "strata run supports type=bind and type=tmpfs" });
  }
  for (const k of kv.keys()) {
    if (!allowed[type]!.includes(k)) throw new StrataError("STRATA_RUN_BAD_MOUNT", `--mount ${JSON.stringify(spec)}: ${k} is not an option of type=${type}`);
  }
  const where = `--mount ${spec}`;
  if (type === "tmpfs") {
    const size = kv.get("tmpfs-size");
    return { type: "tmpfs", target: containerPath(target, where), ...(size !== undefined ? { size: parseSize(size, where) } : {}) };
  }
  const source = kv.get("source");
  if (!source) throw new StrataError("STRATA_RUN_BAD_MOUNT", `--mount ${JSON.stringify(spec)}: type=bind needs a source`);
  const ro = kv.get("readonly");
  if (ro !== undefined && ro !== "true" && ro !== "false" && ro !== "1" && ro !== "0") {
    throw new StrataError("STRATA_RUN_BAD_MOUNT", `--mount ${JSON.stringify(spec)}: readonly=${ro} is not true or false`);
  }
  return { type: "bind", source: hostPath(source, cwd, where), target: containerPath(target, where), readonly: ro === "true" || ro === "1" };
}

function hostPath(p: string, cwd: string, where: string): string {
  const home = process.env.HOME ?? "/";
  const abs = p === "~" || p.startsWith("~/") ? resolve(home, p.slice(2)) : resolve(cwd, p);
  try {
    statSync(abs);
  } catch {
    // docker creates a missing bind source as root; a typo would then become an empty directory.
    throw new StrataError("STRATA_RUN_BAD_VOLUME", `${where}: the host path ${abs} does not exist`, { hint: "create it first (strata run never creates host directories)" });
  }
  return abs;
}

function containerPath(p: string, where: string): string {
  if (!p.startsWith("/")) throw new StrataError("STRATA_RUN_BAD_VOLUME", `${where}: the container path ${JSON.stringify(p)} is not absolute`);
  return p;
}

function parseSize(s: string, where: string): number {
  const m = SIZE.exec(s);
  if (!m) throw new StrataError("STRATA_RUN_BAD_MOUNT", `${where}: tmpfs-size=${s} is not a size`, { hint: "bytes, or with k, m or g" });
  const mult = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as "" | "b" | "k" | "m" | "g"];
  return Number(m[1]) * mult;
}
