import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  realpathSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeSync,
  lchownSync,
  lutimesSync,
  chmodSync,
  readdirSync,
} from "node:fs";
import { StrataError, type ErrorCode } from "@strata/graph";
import { decompressed, type ByteSource } from "../compress/decompress.ts";
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from "../layer/order-entries.ts";
import { TypeFlag } from "../tar/header.ts";
import { TarParser, type TarHeader } from "../tar/parser.ts";
import { makeSpecialNodes, setXattrs, type SpecialNode, type XattrOp } from "./node-ops.ts";
import { RootResolver } from "./root-resolver.ts";

export interface ExtractOptions {
  /**
   * "apply": flatten onto what `rootDir` already holds — `.wh.x` deletes `x`, an opaque
   * marker empties its directory of lower content. "overlay": `rootDir` becomes one
   * overlayfs lowerdir — `.wh.x` becomes a 0/0 character device, an opaque marker the
   * `trusted.overlay.opaque=y` xattr (both need root).
   */
  readonly mode: "apply" | "overlay";
  /** Apply the archive's uid/gid; default: when running as root. */
  readonly sameOwner?: boolean;
  /** Entries with absolute names or `..` components: "reject" (default) throws, "skip" warns and goes on. */
  readonly unsafe?: "reject" | "skip";
  /** Restore `SCHILY.xattr.*` attributes (default true; needs `setfattr`). */
  readonly xattrs?: boolean;
  readonly onWarning?: (w: ExtractWarning) => void;
}

export interface ExtractWarning {
  readonly code: ErrorCode;
  readonly path: string;
  readonly message: string;
}

export interface ExtractResult {
  readonly entries: number;
  /** Bytes of file content written. */
  readonly bytes: number;
  readonly warnings: readonly ExtractWarning[];
}

interface Meta {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
}

const O_CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Extracts a layer (plain tar, gzip or zstd — detected) into `rootDir`, never writing
 * outside it: names with `..` or a leading `/` are refused, every parent directory is
 * resolved inside the root (a symlink on the way is followed as if the root were `/`),
 * the final component is replaced and never followed (files are created with
 * O_EXCL|O_NOFOLLOW), and hard links may only point at something already inside the root.
 * Device nodes are created only when running as root. Directory modes and times are set at
 * the end, after their content. A failed extraction leaves a partial tree: extract into a
 * fresh directory and rename it into place.
 */
export async function extractLayer(input: ByteSource, rootDir: string, opts: ExtractOptions): Promise<ExtractResult> {
  mkdirSync(rootDir, { recursive: true });
  const x = new Extraction(realpathSync(rootDir), opts);
  const parser = new TarParser(x);
  try {
    for await (const chunk of decompressed(input)) {
      parser.write(chunk);
      if (parser.ended) break;
    }
    parser.finish();
    x.finish();
  } finally {
    x.closeCurrent();
  }
  return { entries: x.count, bytes: x.bytes, warnings: x.warnings };
}

class Extraction {
  readonly warnings: ExtractWarning[] = [];
  count = 0;
  bytes = 0;
  private readonly r: RootResolver;
  private readonly isRoot = process.getuid?.() === 0;
  private readonly sameOwner: boolean;
  /** Real paths written by this layer: whiteouts and opaque markers only hide lower content. */
  private readonly unpacked = new Set<string>();
  private readonly dirMeta = new Map<string, Meta>();
  private pendingNodes: (SpecialNode & { rel: string; meta: Meta })[] = [];
  private readonly pendingNodePaths = new Set<string>();
  private readonly pendingXattrs: (XattrOp & { rel: string })[] = [];
  /** Open file being written, or "skip" while discarding a refused entry's content. */
  private current: { fd: number; meta: Meta } | "skip" | undefined;

  constructor(root: string, private readonly opts: ExtractOptions) {
    this.r = new RootResolver(root);
    this.sameOwner = opts.sameOwner ?? this.isRoot;
  }

  entry(h: TarHeader): void {
    this.current = undefined;
    const parts = this.safeParts(h.name, h.name);
    if (!parts) {
      this.current = "skip";
      return;
    }
    if (parts.length === 0) return; // the root itself: keep its metadata
    this.count++;
    const base = parts[parts.length - 1] as string;
    const parentParts = parts.slice(0, -1);
    if (base.startsWith(WHITEOUT_PREFIX)) {
      this.whiteout(parentParts, base, h.name);
      return;
    }

    const parent = this.r.resolveDir(parentParts, (rel) => this.created(rel, { mode: 0o755, uid: 0, gid: 0, mtime: -1 })) as string;
    this.markAncestors(parent);
    const rel = parent === "" ? base : `${parent}/${base}`;
    const abs = this.r.abs(rel);
    const meta: Meta = { mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime };
    switch (h.typeflag) {
      case TypeFlag.File:
      case TypeFlag.Contiguous: {
        this.clear(rel, false);
        const fd = openSync(abs, O_CREATE_NEW, 0o600);
        this.current = { fd, meta };
        this.unpacked.add(rel);
        break;
      }
      case TypeFlag.Directory:
        if (!this.clear(rel, true)) mkdirSync(abs, { mode: 0o700 });
        this.created(rel, meta);
        break;
      case TypeFlag.Symlink:
        this.clear(rel, false);
        symlinkSync(h.linkname, abs);
        if (this.sameOwner) lchownSync(abs, h.uid, h.gid);
        lutimesSync(abs, h.mtime, h.mtime);
        this.unpacked.add(rel);
        break;
      case TypeFlag.Hardlink:
        this.hardlink(rel, h);
        break;
      case TypeFlag.CharDevice:
      case TypeFlag.BlockDevice:
      case TypeFlag.Fifo: {
        const kind = h.typeflag === TypeFlag.Fifo ? "p" : h.typeflag === TypeFlag.CharDevice ? "c" : "b";
        if (kind !== "p" && !this.isRoot) {
          this.count--;
          this.warn("STRATA_EXTRACT_DEVICE_SKIPPED", h.name, "device node skipped: creating device nodes needs root");
          return;
        }
        this.clear(rel, false);
        this.pendingNodes.push({ abs, rel, kind, major: h.devmajor, minor: h.devminor, meta });
        this.pendingNodePaths.add(rel);
        this.unpacked.add(rel);
        break;
      }
      default:
        this.count--;
        this.current = "skip";
        this.warn("STRATA_EXTRACT_UNSUPPORTED_TYPE", h.name, `entry of tar type ${JSON.stringify(String.fromCharCode(h.typeflag))} skipped`);
        return;
    }
    if (h.xattrs && this.opts.xattrs !== false) this.queueXattrs(rel, h);
  }

  data(chunk: Buffer): void {
    const cur = this.current;
    if (cur === undefined || cur === "skip") return;
    let at = 0;
    while (at < chunk.length) at += writeSync(cur.fd, chunk, at, chunk.length - at);
    this.bytes += chunk.length;
  }

  entryEnd(): void {
    const cur = this.current;
    this.current = undefined;
    if (cur === undefined || cur === "skip") return;
    try {
      if (this.sameOwner) fchownSync(cur.fd, cur.meta.uid, cur.meta.gid);
      fchmodSync(cur.fd, cur.meta.mode);
      futimesSync(cur.fd, cur.meta.mtime, cur.meta.mtime);
    } finally {
      closeSync(cur.fd);
    }
  }

  closeCurrent(): void {
    const cur = this.current;
    this.current = undefined;
    if (cur && cur !== "skip") closeSync(cur.fd);
  }

  /** Deferred work: special nodes, xattrs, then directory metadata deepest first. */
  finish(): void {
    this.flushNodes();
    if (this.pendingXattrs.length > 0) {
      const ops = this.pendingXattrs.filter((op) => {
        if (this.r.isPlain(op.rel)) return true;
        this.warn("STRATA_EXTRACT_XATTR_SKIPPED", op.rel, "xattr skipped: its path was replaced by a later entry");
        return false;
      });
      for (const msg of setXattrs(ops)) this.warn("STRATA_EXTRACT_XATTR_FAILED", "", msg);
    }
    const dirs = [...this.dirMeta.keys()].sort((a, b) => depth(b) - depth(a));
    for (const rel of dirs) {
      const m = this.dirMeta.get(rel) as Meta;
      const abs = this.r.abs(rel);
      if (!this.r.isPlain(rel) || !lstatSync(abs).isDirectory()) continue;
      if (this.sameOwner) lchownSync(abs, m.uid, m.gid);
      chmodSync(abs, m.mode);
      if (m.mtime >= 0) lutimesSync(abs, m.mtime, m.mtime);
    }
  }

  private hardlink(rel: string, h: TarHeader): void {
    const target = this.safeParts(h.linkname, h.name);
    if (!target) return;
    if (target.length === 0) throw linkError(h, "it points at the root directory");
    const tParent = this.r.resolveDir(target.slice(0, -1));
    const tRel = tParent === undefined ? undefined : tParent === "" ? (target[target.length - 1] as string) : `${tParent}/${target[target.length - 1]}`;
    if (tRel !== undefined && this.pendingNodePaths.has(tRel)) this.flushNodes();
    const st = tRel === undefined ? undefined : lstatSync(this.r.abs(tRel), { throwIfNoEntry: false });
    if (!st || tRel === undefined) throw linkError(h, "its target does not exist (yet) inside the root");
    if (st.isDirectory()) throw linkError(h, "its target is a directory");
    if (tRel === rel) return;
    this.clear(rel, false);
    linkSync(this.r.abs(tRel), this.r.abs(rel)); // link(2) does not follow a symlink target
    this.unpacked.add(rel);
  }

  private whiteout(parentParts: string[], base: string, name: string): void {
    const overlay = this.opts.mode === "overlay";
    if (overlay && !this.isRoot) {
      throw new StrataError("STRATA_EXTRACT_NEEDS_ROOT", `overlay-mode extraction of whiteout ${JSON.stringify(name)} needs root`, {
        hint: "overlay whiteouts are character devices and trusted.* xattrs; extract in apply mode when not root",
      });
    }
    if (base === OPAQUE_MARKER) {
      if (overlay) {
        const dir = this.r.resolveDir(parentParts, (rel) => this.created(rel, { mode: 0o755, uid: 0, gid: 0, mtime: -1 })) as string;
        this.pendingXattrs.push({ rel: dir, abs: this.r.abs(dir), name: "trusted.overlay.opaque", value: Buffer.from("y") });
        return;
      }
      const dir = this.lowerDir(parentParts);
      if (dir === undefined) return;
      this.flushNodes();
      this.removeLower(dir);
      return;
    }
    if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return; // aufs metadata (.wh..wh.plnk etc.)
    const target = base.slice(WHITEOUT_PREFIX.length);
    if (target === "" || target === "." || target === "..") {
      this.warn("STRATA_EXTRACT_UNSAFE_PATH", name, "invalid whiteout skipped");
      return;
    }
    const dir = overlay ? (this.r.resolveDir(parentParts, (rel) => this.created(rel, { mode: 0o755, uid: 0, gid: 0, mtime: -1 })) as string) : this.lowerDir(parentParts);
    if (dir === undefined) return;
    const rel = dir === "" ? target : `${dir}/${target}`;
    if (this.unpacked.has(rel)) return; // whiteouts hide lower layers only
    if (overlay) {
      this.clear(rel, false);
      this.pendingNodes.push({ abs: this.r.abs(rel), rel, kind: "c", major: 0, minor: 0, meta: { mode: 0, uid: 0, gid: 0, mtime: -1 } });
      this.pendingNodePaths.add(rel);
      return;
    }
    this.clear(rel, false);
  }

  /** An existing directory for a whiteout to act in, or undefined if there is none (nothing to delete). */
  private lowerDir(parts: string[]): string | undefined {
    try {
      return this.r.resolveDir(parts);
    } catch (e) {
      if ((e as { code?: string }).code === "STRATA_EXTRACT_NOT_A_DIRECTORY") return undefined;
      throw e;
    }
  }

  /** Opaque directory in apply mode: remove everything below `dir` this layer did not write. */
  private removeLower(dir: string): void {
    for (const name of readdirSync(this.r.abs(dir))) {
      const rel = dir === "" ? name : `${dir}/${name}`;
      if (!this.unpacked.has(rel)) {
        this.remove(rel);
        continue;
      }
      const st = lstatSync(this.r.abs(rel));
      if (st.isDirectory()) this.removeLower(rel);
    }
  }

  /**
   * Makes room at `rel`. An existing directory is kept when `keepDir` (a directory entry over
   * a directory merges); anything else there is removed. Returns whether a directory was kept.
   */
  private clear(rel: string, keepDir: boolean): boolean {
    if (this.pendingNodePaths.has(rel)) this.flushNodes();
    const st = lstatSync(this.r.abs(rel), { throwIfNoEntry: false });
    if (!st) return false;
    if (keepDir && st.isDirectory()) return true;
    this.remove(rel);
    return false;
  }

  private remove(rel: string): void {
    const abs = this.r.abs(rel);
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      this.flushNodes();
      rmSync(abs, { recursive: true, force: true });
      for (const k of this.dirMeta.keys()) if (k === rel || k.startsWith(`${rel}/`)) this.dirMeta.delete(k);
    } else {
      unlinkSync(abs);
    }
    if (st.isDirectory() || st.isSymbolicLink()) this.r.invalidate();
  }

  /** A directory that holds content of this layer is not "lower content" for an opaque marker. */
  private markAncestors(dir: string): void {
    let d = dir;
    while (d !== "") {
      this.unpacked.add(d);
      const i = d.lastIndexOf("/");
      d = i < 0 ? "" : d.slice(0, i);
    }
  }

  private created(rel: string, meta: Meta): void {
    this.unpacked.add(rel);
    const prev = this.dirMeta.get(rel);
    // An explicit directory entry wins over the defaults of an implicitly created parent.
    if (!prev || meta.mtime >= 0 || prev.mtime < 0) this.dirMeta.set(rel, meta);
  }

  private flushNodes(): void {
    if (this.pendingNodes.length === 0) return;
    const nodes = this.pendingNodes.filter((n) => {
      if (this.r.isPlain(n.rel.includes("/") ? n.rel.slice(0, n.rel.lastIndexOf("/")) : "")) return true;
      this.warn("STRATA_EXTRACT_DEVICE_SKIPPED", n.rel, "special file skipped: its parent was replaced by a later entry");
      return false;
    });
    this.pendingNodes = [];
    this.pendingNodePaths.clear();
    makeSpecialNodes(nodes);
    for (const n of nodes) {
      if (n.meta.mtime < 0) continue; // overlay whiteouts: ownership and times do not matter
      if (this.sameOwner) lchownSync(n.abs, n.meta.uid, n.meta.gid);
      chmodSync(n.abs, n.meta.mode);
      lutimesSync(n.abs, n.meta.mtime, n.meta.mtime);
    }
  }

  private queueXattrs(rel: string, h: TarHeader): void {
    for (const [name, value] of Object.entries(h.xattrs ?? {})) {
      if (name.startsWith("trusted.overlay.")) {
        this.warn("STRATA_EXTRACT_XATTR_SKIPPED", h.name, `xattr ${name} skipped: overlay metadata is never taken from an archive`);
        continue;
      }
      if (name.startsWith("trusted.") && !this.isRoot) {
        this.warn("STRATA_EXTRACT_XATTR_SKIPPED", h.name, `xattr ${name} skipped: trusted.* needs root`);
        continue;
      }
      this.pendingXattrs.push({ rel, abs: this.r.abs(rel), name, value });
    }
  }

  /** Root-relative components of an archive name, or undefined (after rejecting or warning) if unsafe. */
  private safeParts(name: string, entryName: string): string[] | undefined {
    const parts = name.split("/").filter((p) => p !== "" && p !== ".");
    if (!name.startsWith("/") && !parts.includes("..") && !name.includes("\0")) return parts;
    const why = name.startsWith("/") ? "is absolute" : name.includes("\0") ? "contains a NUL byte" : "climbs out with '..'";
    const message = `${JSON.stringify(name)} ${why}`;
    if ((this.opts.unsafe ?? "reject") === "reject") {
      throw new StrataError("STRATA_EXTRACT_UNSAFE_PATH", `refusing to extract ${JSON.stringify(entryName)}: ${message}`, {
        hint: "the layer tries to write outside its root; it is damaged or malicious",
      });
    }
    this.warn("STRATA_EXTRACT_UNSAFE_PATH", entryName, `skipped: ${message}`);
    return undefined;
  }

  private warn(code: ErrorCode, path: string, message: string): void {
    const w = { code, path, message };
    this.warnings.push(w);
    this.opts.onWarning?.(w);
  }
}

function linkError(h: TarHeader, why: string): StrataError {
  return new StrataError("STRATA_EXTRACT_BAD_HARDLINK", `refusing hard link ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}: ${why}`, {
    hint: "a hard link must point at a file already extracted inside the root",
  });
}

function depth(rel: string): number {
  let n = 0;
  for (let i = 0; i < rel.length; i++) if (rel.charCodeAt(i) === 0x2f) n++;
  return n;
}
