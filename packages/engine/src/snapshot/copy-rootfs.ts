import type { BigIntStats } from "node:fs";
import { chmod, constants, copyFile, lchown, lstat, lutimes, mkdir, readlink, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path/posix";
import type { LayerEntry } from "@strata/oci";
import { StrataError } from "@strata/graph";
import { runCommand } from "../sandbox-util/command.ts";
import { ChangeSet, devMajor, devMinor, isPrivateXattr, isWhiteoutStat } from "./change-set.ts";
import { dirChanged } from "./lower-view.ts";
import { walkTree } from "./walk.ts";
import { OPAQUE_XATTR, readXattrs, writeXattrs } from "./xattrs.ts";

/** One path of the merged lower view: where it comes from, and what the copy became. */
interface Node {
  readonly src: string;
  readonly st: BigIntStats;
  readonly xattrs: ReadonlyMap<string, Uint8Array> | undefined;
  children: Map<string, Node> | undefined;
  /**
   * Identity of the copy in the merged directory (set when copied): the inode number, which a
   * file system reuses at once for a path deleted and made again, and the birth time, which
   * tells the two apart (0 where the file system has none).
   */
  copyIno?: bigint;
  copyBirth?: bigint;
}

/** The merged lower view as it was copied, to diff the directory against after the step. */
export interface CopyManifest {
  readonly root: Node;
  /** ctime (ns) no copied file can exceed; anything the step touches gets a later one. */
  readonly copiedBeforeNs: bigint;
}

/**
 * The snapshotter for hosts without overlayfs: merges the overlay-format lowers (bottom→top;
 * whiteouts and opaque directories applied) into `mergedDir` as a real copy, reflinked where
 * the file system can (`copyFile` with FICLONE, a plain copy otherwise). Hard links between
 * lower files are not kept: overlayfs breaks them on the first write too.
 * `markerDir` receives a file whose ctime separates the copy from the step's changes.
 */
export async function copyLowers(lowerDirs: readonly string[], mergedDir: string, markerDir: string): Promise<CopyManifest> {
  const root: Node = { src: mergedDir, st: await lstat(mergedDir, { bigint: true }), xattrs: undefined, children: new Map() };
  for (const lower of lowerDirs) {
    const xattrs = await readXattrs({ tree: lower });
    const dirNodes = new Map<string, Node>([["", root]]);
    walkTree(lower, (e) => {
      const slash = e.rel.lastIndexOf("/");
      const parent = dirNodes.get(slash < 0 ? "" : e.rel.slice(0, slash));
      const name = e.rel.slice(slash + 1);
      if (!parent?.children) return false;
      if (isWhiteoutStat(e.st)) {
        parent.children.delete(name);
        return false;
      }
      const attrs = xattrs.get(e.abs);
      const prev = parent.children.get(name);
      if (e.st.isDirectory()) {
        const opaque = new TextDecoder().decode(attrs?.get(OPAQUE_XATTR) ?? new Uint8Array()) === "y";
        const keep = prev?.children && !opaque ? prev.children : new Map<string, Node>();
        const node: Node = { src: e.abs, st: e.st, xattrs: attrs, children: keep };
        parent.children.set(name, node);
        dirNodes.set(e.rel, node);
        return true;
      }
      parent.children.set(name, { src: e.abs, st: e.st, xattrs: attrs, children: undefined });
      return false;
    });
  }
  const restore: [string, Map<string, Uint8Array>][] = [];
  await materialize(root, mergedDir, restore);
  const top = lowerDirs.at(-1);
  if (top !== undefined) {
    // The root directory's own metadata comes from the topmost lower, as in an overlay mount.
    const st = await lstat(top, { bigint: true });
    await lchown(mergedDir, Number(st.uid), Number(st.gid));
    await chmod(mergedDir, Number(st.mode & 0o7777n));
  }
  await writeXattrs(restore);
  const rootSt = await lstat(mergedDir, { bigint: true });
  root.copyIno = rootSt.ino;
  root.copyBirth = rootSt.birthtimeNs;
  return { root, copiedBeforeNs: await ctimeBarrier(markerDir) };
}

async function materialize(dir: Node, dest: string, restore: [string, Map<string, Uint8Array>][]): Promise<void> {
  for (const [name, node] of [...dir.children!].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const to = join(dest, name);
    const st = node.st;
    if (st.isDirectory()) {
      await mkdir(to, { mode: 0o700 });
      await materialize(node, to, restore);
    } else if (st.isFile()) {
      await copyFile(node.src, to, constants.COPYFILE_FICLONE);
    } else if (st.isSymbolicLink()) {
      await symlink(await readlink(node.src), to);
    } else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
      const type = st.isFIFO() ? ["p"] : [st.isCharacterDevice() ? "c" : "b", String(devMajor(st.rdev)), String(devMinor(st.rdev))];
      const r = await runCommand(["mknod", to, ...type]);
      if (r.code !== 0) throw new StrataError("STRATA_SNAPSHOT_COPY", `mknod ${to}: ${r.stderr.trim()}`);
    } else {
      continue; // sockets
    }
    // chown clears set-id bits, so the mode comes after it.
    await lchown(to, Number(st.uid), Number(st.gid));
    if (!st.isSymbolicLink()) await chmod(to, Number(st.mode & 0o7777n));
    await lutimes(to, nsToSeconds(st.atimeNs), nsToSeconds(st.mtimeNs));
    const attrs = new Map([...(node.xattrs ?? [])].filter(([k]) => !isPrivateXattr(k)));
    if (attrs.size > 0) restore.push([to, attrs]);
    const copied = await lstat(to, { bigint: true });
    node.copyIno = copied.ino;
    node.copyBirth = copied.birthtimeNs;
  }
}

/**
 * Creates a marker and waits until the file system clock has moved past its ctime, so that
 * ctime > result holds for every change made from now on (timestamps are coarse: one tick
 * covers many operations).
 */
async function ctimeBarrier(markerDir: string): Promise<bigint> {
  await mkdir(markerDir, { recursive: true });
  const marker = join(markerDir, ".strata-copy-marker");
  await writeFile(marker, "");
  const t0 = (await lstat(marker, { bigint: true })).ctimeNs;
  for (let i = 0; i < 1000; i++) {
    await writeFile(marker, String(i));
    if ((await lstat(marker, { bigint: true })).ctimeNs > t0) return t0;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new StrataError("STRATA_SNAPSHOT_COPY", "the file system clock does not advance");
}

/**
 * Compares the copied root with its manifest, with overlayfs' outcome as the reference:
 * a path missing now → whiteout (only the topmost); a path that is new, has another type or
 * another identity (deleted and made again: inode number and birth time) → added, a directory made again over an old path also
 * opaque, as overlayfs marks it; a non-directory whose ctime moved past the copy → added (any
 * write, chmod, chown or touch, just as overlayfs copies it up); a directory whose own
 * metadata changed → added; parents of changes come in through {@link ChangeSet}.
 */
export async function diffCopy(mergedDir: string, manifest: CopyManifest): Promise<LayerEntry[]> {
  const changes = new ChangeSet();
  const nodes = new Map<string, Node>([["", manifest.root]]);
  /** Directories whose whole content is new (no manifest below them). */
  const fresh = new Set<string>();
  const seen = new Set<string>();
  walkTree(mergedDir, (e) => {
    seen.add(e.rel);
    const slash = e.rel.lastIndexOf("/");
    const parentRel = slash < 0 ? "" : e.rel.slice(0, slash);
    const isDir = e.st.isDirectory();
    const parent = fresh.has(parentRel) ? undefined : nodes.get(parentRel);
    const before = parent?.children?.get(e.rel.slice(slash + 1));
    if (!before) {
      changes.add(e.rel, e.abs, e.st);
      if (isDir) fresh.add(e.rel);
      return;
    }
    if (!sameType(before.st, e.st) || before.copyIno !== e.st.ino || before.copyBirth !== e.st.birthtimeNs) {
      changes.add(e.rel, e.abs, e.st, isDir);
      if (isDir) fresh.add(e.rel);
      return;
    }
    if (isDir) {
      nodes.set(e.rel, before);
      if (dirChanged(e.st, before.st)) changes.add(e.rel, e.abs, e.st);
    } else if (e.st.ctimeNs > manifest.copiedBeforeNs) {
      changes.add(e.rel, e.abs, e.st);
    }
  });
  const whiteouts = (node: Node, rel: string) => {
    for (const [name, child] of node.children ?? []) {
      const childRel = rel === "" ? name : `${rel}/${name}`;
      if (!seen.has(childRel)) changes.whiteout(childRel);
      else if (nodes.get(childRel) === child) whiteouts(child, childRel);
    }
  };
  whiteouts(manifest.root, "");
  return changes.entries(mergedDir, (paths) => readXattrs({ paths }));
}

function sameType(a: BigIntStats, b: BigIntStats): boolean {
  return (a.mode & 0o170000n) === (b.mode & 0o170000n);
}

function nsToSeconds(ns: bigint): number {
  return Number(ns) / 1e9;
}
