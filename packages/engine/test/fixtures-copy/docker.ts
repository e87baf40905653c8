/**
 * Helpers for the docker equivalence tests: a busybox base image built from a rootfs we also
 * keep on disk (so the planner sees the same base), `docker build` of one COPY/ADD per
 * case, and the file tree of the layer Docker made for it.
 */
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, createReadStream, lchownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { LayerEntry } from "@strata/oci";
import { extract } from "tar-stream";

const run = promisify(execFile);
export const DOCKER = "/usr/bin/docker";

export function dockerAvailable(): boolean {
  try {
    execFileSync(DOCKER, ["info", "--format", "{{.ServerVersion}}"], { stdio: "pipe", timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** Writes the base rootfs: busybox, passwd/group, and directories with telling metadata. */
export function makeRootfs(dir: string): void {
  const d = (p: string, mode: number, uid = 0, gid = 0) => {
    mkdirSync(join(dir, p), { recursive: true });
    chmodSync(join(dir, p), mode);
    chownSync(join(dir, p), uid, gid);
  };
  d("", 0o755);
  d("bin", 0o755);
  d("etc", 0o755);
  d("real", 0o755);
  d("existing", 0o750, 5, 5);
  d("existing/sub", 0o700, 7, 7);
  d("usr", 0o755);
  d("usr/local", 0o755);
  d("usr/local/bin", 0o755);
  d("srv", 0o711, 3, 3);
  d("tmp", 0o1777);
  writeFileSync(join(dir, "bin/busybox"), readFileSync("/bin/busybox"));
  chmodSync(join(dir, "bin/busybox"), 0o755);
  symlinkSync("busybox", join(dir, "bin/sh"));
  writeFileSync(
    join(dir, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/sh\napp:x:1000:1001:app user:/home/app:/bin/sh\nother:x:2000:2000::/home/other:/bin/sh\n",
  );
  writeFileSync(join(dir, "etc/group"), "root:x:0:\ndaemon:x:1:\nappgrp:x:1001:\nstaff:x:50:app\nother:x:2000:\n");
  writeFileSync(join(dir, "afile"), "hello\n");
  symlinkSync("/real", join(dir, "link"));
  symlinkSync("real", join(dir, "rlink"));
  symlinkSync("/afile", join(dir, "lf"));
  symlinkSync("../existing", join(dir, "srv/up"));
  lchownSync(join(dir, "srv/up"), 3, 3);
}

export async function importBase(rootfs: string, tag: string): Promise<void> {
  const tar = `${rootfs}.tar`;
  execFileSync("tar", ["--numeric-owner", "-C", rootfs, "-cf", tar, "."]);
  await run(DOCKER, ["import", tar, tag], { timeout: 120_000 });
}

export async function dockerBuild(ctx: string, tag: string): Promise<void> {
  try {
    await run(DOCKER, ["build", "-q", "-t", tag, ctx], { env: { ...process.env, DOCKER_BUILDKIT: "1" }, timeout: 300_000 });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string };
    throw new Error(`docker build of ${ctx} failed:\n${err.stderr ?? ""}${err.stdout ?? ""}`);
  }
}

/** Saves images and returns, per tag, the path of its last layer's tar. */
export async function lastLayers(tags: readonly string[], dir: string): Promise<Map<string, string>> {
  mkdirSync(dir, { recursive: true });
  execFileSync("sh", ["-c", `${DOCKER} save ${tags.join(" ")} | tar -x -C ${dir}`], { timeout: 300_000 });
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { RepoTags: string[] | null; Layers: string[] }[];
  const out = new Map<string, string>();
  for (const m of manifest) for (const t of m.RepoTags ?? []) out.set(t, join(dir, m.Layers[m.Layers.length - 1] as string));
  return out;
}

/** A comparable file-tree row: no mtime; hard links compared as files with their group. */
export interface TreeRow {
  path: string;
  type: string;
  mode: string;
  uid: number;
  gid: number;
  size: number;
  sha256?: string;
  linkname?: string;
  linkGroup?: string;
}

export async function layerTree(tarPath: string): Promise<TreeRow[]> {
  const rows: TreeRow[] = [];
  const ex = extract();
  createReadStream(tarPath).pipe(ex);
  for await (const entry of ex) {
    const h = entry.header;
    const hash = createHash("sha256");
    let size = 0;
    for await (const c of entry) {
      hash.update(c as Buffer);
      size += (c as Buffer).length;
    }
    const path = h.name.replace(/^\.\//, "").replace(/\/$/, "");
    if (path === "" || path === ".") continue;
    const type = h.type === "directory" ? "directory" : h.type === "symlink" ? "symlink" : h.type === "link" ? "hardlink" : h.type === "file" ? "file" : h.type;
    rows.push({
      path,
      type,
      mode: (h.mode & 0o7777).toString(8),
      uid: h.uid,
      gid: h.gid,
      size,
      ...(type === "file" ? { sha256: hash.digest("hex") } : {}),
      ...(type === "symlink" ? { linkname: h.linkname ?? "" } : {}),
      ...(type === "hardlink" ? { linkname: (h.linkname ?? "").replace(/^\.\//, "") } : {}),
    });
  }
  return normalizeHardlinks(rows);
}

export function plannedTree(entries: readonly LayerEntry[]): TreeRow[] {
  const rows: TreeRow[] = [];
  for (const e of entries) {
    if (e.type === "whiteout" || e.type === "opaque") {
      rows.push({ path: e.path, type: e.type, mode: "0", uid: 0, gid: 0, size: 0 });
      continue;
    }
    const base = { path: e.path, type: e.type, mode: e.mode.toString(8), uid: e.uid, gid: e.gid };
    if (e.type === "file") {
      const bytes = "bytes" in e.content ? e.content.bytes : readFileSync(e.content.path);
      rows.push({ ...base, size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") });
    } else if (e.type === "symlink" || e.type === "hardlink") rows.push({ ...base, size: 0, linkname: e.linkname });
    else rows.push({ ...base, size: 0 });
  }
  return normalizeHardlinks(rows);
}

/** Which member of a hard-link group holds the content is a writer's choice: compare groups. */
function normalizeHardlinks(rows: TreeRow[]): TreeRow[] {
  const byPath = new Map(rows.map((r) => [r.path, r]));
  const groups = new Map<string, string[]>();
  for (const r of rows) {
    if (r.type !== "hardlink") continue;
    let root = r;
    for (let i = 0; root.type === "hardlink" && i < 100; i++) root = byPath.get(root.linkname ?? "") ?? root;
    const list = groups.get(root.path) ?? [root.path];
    list.push(r.path);
    groups.set(root.path, list);
  }
  const out = rows.map((r) => ({ ...r }));
  const outBy = new Map(out.map((r) => [r.path, r]));
  for (const [root, members] of groups) {
    const primary = byPath.get(root) as TreeRow;
    const group = [...members].sort().join(",");
    for (const m of members) {
      const row = outBy.get(m) as TreeRow;
      row.type = "file";
      row.size = primary.size;
      if (primary.sha256 !== undefined) row.sha256 = primary.sha256;
      delete row.linkname;
      row.linkGroup = group;
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
