import { createHash } from "node:crypto";
import type { ImageConfigFile } from "@strata/graph";
import { readDockerArchive, readLayerEntries } from "@strata/oci";

/** One path of an image's flattened filesystem: everything but its timestamp. */
export interface TreeEntry {
  readonly type: "file" | "directory" | "symlink" | "char-device" | "block-device" | "fifo";
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
  readonly size?: number;
  readonly sha256?: string;
  readonly linkname?: string;
  readonly device?: string;
  readonly xattrs?: string;
  /** The other paths hard-linked to this file (sorted), when there are any. */
  readonly hardlinks?: string;
}

export interface FlatImage {
  readonly tree: Map<string, TreeEntry>;
  readonly config: ImageConfigFile;
}

/**
 * Reads one image of a `docker save` archive and applies its layers in order, as a
 * container's root filesystem is stacked: whiteouts and opaque markers delete from the
 * layers below (never from their own layer), later entries replace earlier ones. Hard links
 * are resolved to their target's content and recorded as groups, so a difference in link
 * structure shows up as a difference too.
 */
export async function flattenSaved(archive: string, tag: string): Promise<FlatImage> {
  const image = await readDockerArchive(archive, { tag });
  const tree = new Map<string, TreeEntry>();
  const groups = new Map<string, Set<string>>();
  for (const layer of image.layers) {
    const entries = [];
    for await (const e of readLayerEntries(await layer.open(), { content: true })) entries.push(e);
    for (const e of entries) {
      if (e.type === "whiteout") removeTree(tree, e.path, true);
      else if (e.type === "opaque") removeTree(tree, e.path, false);
    }
    for (const e of entries) {
      if (e.type === "whiteout" || e.type === "opaque") continue;
      const base = { mode: (e.mode & 0o7777).toString(8).padStart(4, "0"), uid: e.uid, gid: e.gid, ...(e.xattrs && Object.keys(e.xattrs).length ? { xattrs: xattrText(e.xattrs) } : {}) };
      if (tree.get(e.path)?.type === "directory" && e.type === "directory") tree.delete(e.path);
      else removeTree(tree, e.path, true);
      switch (e.type) {
        case "file": {
          const bytes = "bytes" in e.content ? e.content.bytes : new Uint8Array();
          tree.set(e.path, { type: "file", ...base, size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") });
          break;
        }
        case "hardlink": {
          const target = tree.get(e.linkname);
          if (!target) throw new Error(`${archive}: hard link ${e.path} to missing ${e.linkname}`);
          tree.set(e.path, { ...target, ...base });
          const g = groups.get(e.linkname) ?? new Set([e.linkname]);
          g.add(e.path);
          for (const p of g) groups.set(p, g);
          break;
        }
        case "directory":
          tree.set(e.path, { type: "directory", ...base });
          break;
        case "symlink":
          tree.set(e.path, { type: "symlink", ...base, linkname: e.linkname });
          break;
        case "char-device":
        case "block-device":
          tree.set(e.path, { type: e.type, ...base, device: `${e.devmajor},${e.devminor}` });
          break;
        case "fifo":
          tree.set(e.path, { type: "fifo", ...base });
          break;
      }
    }
  }
  for (const [path, g] of groups) {
    const e = tree.get(path);
    const others = [...g].filter((p) => p !== path && tree.get(p)?.sha256 === e?.sha256).sort();
    if (e && others.length) tree.set(path, { ...e, hardlinks: others.join(" ") });
  }
  return { tree, config: image.config };
}

function removeTree(tree: Map<string, TreeEntry>, path: string, self: boolean): void {
  if (self) tree.delete(path);
  const prefix = path === "" ? "" : `${path}/`;
  for (const p of [...tree.keys()]) if (p.startsWith(prefix) && p !== path) tree.delete(p);
}

function xattrText(x: Readonly<Record<string, Uint8Array>>): string {
  return Object.keys(x)
    .sort()
    .map((k) => `${k}=${Buffer.from(x[k]!).toString("hex")}`)
    .join(",");
}

/** The image config fields the harness compares (what `docker inspect` shows as Config, plus the platform). */
const CONFIG_FIELDS = ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes", "Labels", "Healthcheck", "StopSignal", "Shell", "OnBuild"] as const;

/**
 * The compared config values. Docker reads a missing field, `null`, `""`, `[]` and `{}` alike
 * (all mean "unset"), and engines differ in which they write, so those are one value here: the
 * one normalisation, stated rather than hidden in a looser comparison.
 */
function comparableConfig(c: ImageConfigFile): Record<string, string> {
  const cfg = (c.config ?? {}) as Record<string, unknown>;
  const out: Record<string, string> = { architecture: c.architecture, os: c.os };
  for (const f of CONFIG_FIELDS) out[f] = isUnset(cfg[f]) ? "(unset)" : stable(cfg[f]);
  return out;
}

function isUnset(v: unknown): boolean {
  return v === undefined || v === null || v === "" || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && v !== null && Object.keys(v).length === 0);
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

export interface Difference {
  readonly path: string;
  readonly native: string;
  readonly docker: string;
}

/** Every path and config field whose value differs (or that only one image has). */
export function diffImages(native: FlatImage, docker: FlatImage): Difference[] {
  const out: Difference[] = [];
  const show = (e: TreeEntry | undefined) => (e ? stable(e) : "(absent)");
  for (const path of new Set([...native.tree.keys(), ...docker.tree.keys()])) {
    const a = native.tree.get(path);
    const b = docker.tree.get(path);
    if (show(a) !== show(b)) out.push({ path: `/${path}`, native: show(a), docker: show(b) });
  }
  const ca = comparableConfig(native.config);
  const cb = comparableConfig(docker.config);
  for (const k of Object.keys(ca)) if (ca[k] !== cb[k]) out.push({ path: `config.${k}`, native: ca[k]!, docker: cb[k]! });
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}
