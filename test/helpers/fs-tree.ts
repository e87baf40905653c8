import { createHash } from "node:crypto";
import { lstatSync, openSync, readFileSync, readSync, closeSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { TarFileIndex, TypeFlag } from "@strata/oci";

/** One path of a filesystem tree, as compared between exporters. */
export interface TreeNode {
  readonly type: "file" | "directory" | "symlink" | "other";
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
  /** sha256 of a file's content; a symlink's target. */
  readonly content: string;
  /** For a file with other hard links: all its paths, sorted, joined by a space. */
  readonly links?: string;
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function readRange(path: string, offset: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  const fd = openSync(path, "r");
  try {
    let at = 0;
    while (at < size) {
      const n = readSync(fd, buf, at, size - at, offset + at);
      if (n === 0) break;
      at += n;
    }
  } finally {
    closeSync(fd);
  }
  return buf;
}

/** A tar file's tree; hard link members become files sharing their target's content and link group. */
export async function treeOfTar(file: string): Promise<Map<string, TreeNode>> {
  const index = await TarFileIndex.open(file);
  const out = new Map<string, TreeNode>();
  const groups = new Map<string, string[]>();
  const pending: [string, string][] = [];
  for (const m of index.all()) {
    const h = m.header;
    const name = m.name.replace(/^(\.\/)+/, "").replace(/^\/+/, "").replace(/\/$/, "");
    if (name === "") continue;
    const base = { mode: h.mode & 0o7777, uid: h.uid, gid: h.gid, mtime: h.mtime };
    if (m.typeflag === TypeFlag.Hardlink) {
      pending.push([name, m.linkname.replace(/^(\.\/)+/, "").replace(/^\/+/, "")]);
      continue;
    }
    if (m.typeflag === TypeFlag.File || m.typeflag === TypeFlag.Contiguous) out.set(name, { ...base, type: "file", content: sha(readRange(file, m.offset, m.size)) });
    else if (m.typeflag === TypeFlag.Directory) out.set(name, { ...base, type: "directory", content: "" });
    else if (m.typeflag === TypeFlag.Symlink) out.set(name, { ...base, type: "symlink", content: m.linkname });
    else out.set(name, { ...base, type: "other", content: `${m.typeflag}` });
  }
  for (const [name, target] of pending) {
    const t = out.get(target);
    if (!t) throw new Error(`hard link ${name} → missing ${target}`);
    out.set(name, t);
    const g = groups.get(target) ?? [target];
    g.push(name);
    groups.set(target, g);
  }
  for (const g of groups.values()) {
    const links = [...g].sort().join(" ");
    for (const p of g) out.set(p, { ...out.get(p)!, links });
  }
  return out;
}

/** A directory's tree (lstat: symlinks not followed); hard links grouped by inode. */
export function treeOfDir(root: string): Map<string, TreeNode> {
  const out = new Map<string, TreeNode>();
  const inodes = new Map<number, string[]>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, p));
      const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.isDirectory()) {
        out.set(p, { ...base, type: "directory", content: "" });
        walk(p);
      } else if (st.isSymbolicLink()) out.set(p, { ...base, type: "symlink", content: readlinkSync(join(root, p)) });
      else if (st.isFile()) {
        out.set(p, { ...base, type: "file", content: sha(readFileSync(join(root, p))) });
        if (st.nlink > 1) inodes.set(st.ino, [...(inodes.get(st.ino) ?? []), p]);
      } else out.set(p, { ...base, type: "other", content: "" });
    }
  };
  walk("");
  for (const g of inodes.values()) {
    if (g.length < 2) continue;
    const links = [...g].sort().join(" ");
    for (const p of g) out.set(p, { ...out.get(p)!, links });
  }
  return out;
}
