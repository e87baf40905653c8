import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StrataError } from "@strata/graph";
import type { EntryContent } from "@strata/oci";
import { cleanPath, dirname, joinRel } from "../context/go-path.ts";
import { looksLikeArchive, readArchive } from "./archive.ts";
import type { Owner } from "./chown.ts";
import type { OutputTree } from "./output-tree.ts";
import type { SourceTree } from "./source-tree.ts";

/** ADD unpacks a source exactly when it is a regular file whose (decompressed) start is a tar header. */
export async function isArchiveSource(tree: SourceTree, path: string): Promise<boolean> {
  if (tree.lstat(path)?.type !== "file") return false;
  return looksLikeArchive(tree.read(path));
}

export interface UnpackOptions {
  /** `--chown`: overrides the archive's owners (current BuildKit; Docker 20.10 kept them). */
  readonly owner?: Owner;
  /** Files larger than 64 KiB are written here (else kept in memory). */
  readonly scratchDir?: string;
}

const IN_MEMORY = 64 << 10;
const MAX_LINKS = 255;

/**
 * Unpacks a tar archive into `dest` (a resolved, existing directory of `out`) the way
 * BuildKit's ADD does, safely: names are made relative (`/a` is `a`), `..` that would leave
 * `dest` is refused, and symlinks met on the way — from the archive or the base — resolve
 * inside `dest` (an absolute target restarts at `dest`, as in a chroot). Missing parents are
 * created 0755 root; an entry replaces what was at its path. Owners come from the archive
 * unless `owner` is given; modes and mtimes from the archive.
 */
export async function unpackArchive(tree: SourceTree, path: string, dest: string, out: OutputTree, opts: UnpackOptions = {}): Promise<void> {
  let n = 0;
  const scratchPrefix = opts.scratchDir ? join(opts.scratchDir, `unpack-${randomBytes(6).toString("hex")}-`) : undefined;
  if (opts.scratchDir) mkdirSync(opts.scratchDir, { recursive: true });
  for await (const { header: h, body } of readArchive(tree.read(path))) {
    const name = cleanArchivePath(h.name);
    if (name === "") {
      for await (const _ of body) void _;
      continue;
    }
    const isDir = h.type === "directory";
    const rel = resolveUnder(out, dest, name, isDir);
    const target = joinRel(dest, rel);
    for (let p = dirname(rel), chain: string[] = []; ; p = dirname(p)) {
      if (p === "") {
        for (const d of chain.reverse()) out.put({ type: "directory", path: joinRel(dest, d), mode: 0o755, uid: 0, gid: 0, mtime: 0 });
        break;
      }
      const st = out.lstat(joinRel(dest, p));
      if (st) {
        if (st.type !== "directory") throw unsafe(h.name, `/${joinRel(dest, p)} is not a directory`);
        for (const d of chain.reverse()) out.put({ type: "directory", path: joinRel(dest, d), mode: 0o755, uid: 0, gid: 0, mtime: 0 });
        break;
      }
      chain.push(p);
    }
    const existing = out.lstat(target);
    if (existing && (existing.type !== "directory" || !isDir)) out.removePlanned(target);
    const meta = {
      mode: h.mode,
      uid: opts.owner ? opts.owner.uid : h.uid,
      gid: opts.owner ? opts.owner.gid : h.gid,
      mtime: Math.max(0, h.mtime),
    };
    switch (h.type) {
      case "directory":
        out.put({ type: "directory", path: target, ...meta });
        break;
      case "file": {
        const parts: Buffer[] = [];
        let size = 0;
        for await (const chunk of body) {
          parts.push(chunk);
          size += chunk.length;
        }
        const bytes = Buffer.concat(parts, size);
        let content: EntryContent = { bytes };
        if (scratchPrefix && size > IN_MEMORY) {
          const file = `${scratchPrefix}${n++}`;
          writeFileSync(file, bytes);
          content = { path: file };
        }
        out.put({ type: "file", path: target, size, content, ...meta });
        break;
      }
      case "symlink":
        out.put({ type: "symlink", path: target, linkname: h.linkname, ...meta });
        break;
      case "link": {
        const linkName = cleanArchivePath(h.linkname);
        if (linkName === "") throw unsafe(h.name, "a hard link to the extraction root");
        let to = joinRel(dest, resolveUnder(out, dest, linkName, false));
        for (let guard = 0; out.get(to)?.type === "hardlink" && guard < MAX_LINKS; guard++) to = (out.get(to) as { linkname: string }).linkname;
        const t = out.get(to);
        if (t?.type !== "file") {
          throw new StrataError("STRATA_COPY_ARCHIVE_UNSUPPORTED", `archive member ${JSON.stringify(h.name)} hard-links ${JSON.stringify(h.linkname)}, which the archive did not write before it`);
        }
        out.put({ type: "hardlink", path: target, linkname: to, ...meta });
        break;
      }
      case "char-device":
      case "block-device":
        out.put({ type: h.type, path: target, devmajor: h.devmajor, devminor: h.devminor, ...meta });
        break;
      case "fifo":
        out.put({ type: "fifo", path: target, ...meta });
        break;
    }
  }
}

/** A member name made relative and clean; `""` for the root; refuses names that climb out. */
export function cleanArchivePath(name: string): string {
  const c = cleanPath(name.replace(/^\/+/, ""));
  if (c === "." || c === "") return "";
  if (c === ".." || c.startsWith("../")) throw unsafe(name, "the path leaves the destination");
  return c;
}

function unsafe(name: string, why: string): StrataError {
  return new StrataError("STRATA_COPY_ARCHIVE_UNSAFE", `refusing to unpack archive member ${JSON.stringify(name)}: ${why}`);
}

/** BuildKit's `resolveRootPath` with `dest` as the root: symlinks followed inside it. */
function resolveUnder(out: OutputTree, dest: string, name: string, followLeaf: boolean): string {
  let current = name;
  for (let round = 0; round < MAX_LINKS; round++) {
    const parts = current.split("/").filter((p) => p !== "" && p !== ".");
    const resolved: string[] = [];
    let followed = false;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      const candidate = [...resolved, part].join("/");
      if (i === parts.length - 1 && !followLeaf) {
        resolved.push(part);
        continue;
      }
      const st = out.lstat(joinRel(dest, candidate));
      if (!st) return [...resolved, ...parts.slice(i)].join("/");
      if (st.type !== "symlink") {
        resolved.push(part);
        continue;
      }
      const target = st.linkname ?? "";
      let next: string;
      if (target.startsWith("/")) next = cleanArchivePath(target);
      else {
        next = cleanPath(joinRel(dirname(candidate), target));
        if (next === ".") next = "";
        if (next === ".." || next.startsWith("../")) throw unsafe(name, `symlink /${joinRel(dest, candidate)} points outside the destination`);
      }
      current = joinRel(next, parts.slice(i + 1).join("/"));
      followed = true;
      break;
    }
    if (!followed) return resolved.join("/");
  }
  throw unsafe(name, "too many symlinks");
}
