import { createHash } from "node:crypto";
import { createReadStream, lstatSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import type { EntryContent } from "@strata/oci";
import type { ContextSnapshot } from "../context/snapshot.ts";
import { sortBytes } from "../context/go-path.ts";

export type SourceNodeType = "file" | "directory" | "symlink" | "char-device" | "block-device" | "fifo";

/** What a COPY needs to know about one path of its source. */
export interface SourceNode {
  readonly type: SourceNodeType;
  /** Permission bits with setuid/setgid/sticky (`& 0o7777`). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  readonly size: number;
  readonly linkname?: string;
  /** Equal for paths that are hard links of one file (e.g. `dev:ino`); absent when not linked. */
  readonly linkKey?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
  readonly xattrs?: Readonly<Record<string, Uint8Array>>;
}

/**
 * A read-only filesystem a COPY reads from: the build context, another image's filesystem
 * (the solver implements it over layer tables of contents), a fetched URL or git checkout.
 * Paths are root-relative, `/`-separated, without leading `/`; `""` is the root. Nothing
 * here follows symlinks: the planner resolves them, scoped to the root.
 */
export interface SourceTree {
  lstat(path: string): SourceNode | undefined;
  /** Names of a directory's children (any order). */
  readdir(path: string): readonly string[];
  /** Where the layer writer gets a regular file's bytes. */
  content(path: string): EntryContent;
  /** A regular file's bytes (ADD reads archives through this). */
  read(path: string): AsyncIterable<Uint8Array>;
  /** `sha256:<hex>` of a regular file's bytes (for cache keys); hashes `read` when absent. */
  digest?(path: string): Promise<string>;
}

/** The bytes of a file of any source tree, hashed. */
export async function digestOfSource(tree: SourceTree, path: string): Promise<string> {
  if (tree.digest) return tree.digest(path);
  const h = createHash("sha256");
  for await (const chunk of tree.read(path)) h.update(chunk);
  return `sha256:${h.digest("hex")}`;
}

/**
 * The build context as COPY sees it: the snapshot's kept entries, owned by 0:0 (Docker's
 * context transfer resets owners), hard links grouped by device and inode.
 */
export function contextSourceTree(snapshot: ContextSnapshot): SourceTree {
  return {
    lstat(path) {
      if (path === "") return { type: "directory", mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 };
      const e = snapshot.get(path);
      if (!e) return undefined;
      return {
        type: e.type,
        mode: e.mode,
        uid: 0,
        gid: 0,
        mtime: Math.floor(e.mtimeMs / 1000),
        size: e.size,
        ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
        ...(e.type === "file" && e.nlink > 1 ? { linkKey: `${e.dev}:${e.ino}` } : {}),
      };
    },
    readdir(path) {
      return snapshot.children(path).map((e) => e.path.slice(e.path.lastIndexOf("/") + 1));
    },
    content(path) {
      return { path: snapshot.absolute(path) };
    },
    read(path) {
      return createReadStream(snapshot.absolute(path));
    },
    digest(path) {
      return snapshot.digestOf(path);
    },
  };
}

/**
 * A directory on disk as a source tree (tests, and local checkouts). Owners are kept from
 * disk unless `owner` overrides them (Docker's context transfer would make them 0:0).
 */
export class DirectorySourceTree implements SourceTree {
  constructor(
    readonly root: string,
    private readonly opts: { readonly owner?: { readonly uid: number; readonly gid: number } } = {},
  ) {}

  lstat(path: string): SourceNode | undefined {
    let st: Stats;
    try {
      st = lstatSync(this.abs(path));
    } catch {
      return undefined;
    }
    return nodeFromStats(st, this.opts.owner, st.isSymbolicLink() ? readlinkSync(this.abs(path)) : undefined);
  }

  readdir(path: string): readonly string[] {
    return sortBytes(readdirSync(this.abs(path)));
  }

  content(path: string): EntryContent {
    return { path: this.abs(path) };
  }

  read(path: string): AsyncIterable<Uint8Array> {
    return createReadStream(this.abs(path));
  }

  private abs(path: string): string {
    return path === "" ? this.root : join(this.root, path);
  }
}

function nodeFromStats(st: Stats, owner: { uid: number; gid: number } | undefined, linkname: string | undefined): SourceNode {
  const type: SourceNodeType = st.isDirectory()
    ? "directory"
    : st.isSymbolicLink()
      ? "symlink"
      : st.isCharacterDevice()
        ? "char-device"
        : st.isBlockDevice()
          ? "block-device"
          : st.isFIFO()
            ? "fifo"
            : "file";
  const dev = type === "char-device" || type === "block-device" ? { devmajor: Math.floor(st.rdev / 256) & 0xfff, devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) } : {};
  return {
    type,
    mode: st.mode & 0o7777,
    uid: owner ? owner.uid : st.uid,
    gid: owner ? owner.gid : st.gid,
    mtime: Math.floor(st.mtimeMs / 1000),
    size: type === "file" ? st.size : 0,
    ...(linkname !== undefined ? { linkname } : {}),
    ...(type === "file" && st.nlink > 1 ? { linkKey: `${st.dev}:${st.ino}` } : {}),
    ...dev,
  };
}

/** An in-memory tree: inline files (heredocs), a downloaded URL, tests. */
export class MemorySourceTree implements SourceTree {
  private readonly nodes = new Map<string, { node: SourceNode; bytes?: Uint8Array }>();

  constructor() {
    this.nodes.set("", { node: { type: "directory", mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 } });
  }

  /** Adds a file (and its missing parents as 0755 root directories). */
  file(path: string, bytes: Uint8Array | string, meta: Partial<Omit<SourceNode, "type" | "size">> = {}): this {
    const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
    this.parents(path);
    this.nodes.set(path, { node: { mode: 0o644, uid: 0, gid: 0, mtime: 0, ...meta, type: "file", size: data.length }, bytes: data });
    return this;
  }

  dir(path: string, meta: Partial<Omit<SourceNode, "type" | "size">> = {}): this {
    this.parents(path);
    this.nodes.set(path, { node: { mode: 0o755, uid: 0, gid: 0, mtime: 0, ...meta, type: "directory", size: 0 } });
    return this;
  }

  symlink(path: string, target: string, meta: Partial<Omit<SourceNode, "type" | "size" | "linkname">> = {}): this {
    this.parents(path);
    this.nodes.set(path, { node: { mode: 0o777, uid: 0, gid: 0, mtime: 0, ...meta, type: "symlink", size: 0, linkname: target } });
    return this;
  }

  lstat(path: string): SourceNode | undefined {
    return this.nodes.get(path)?.node;
  }

  readdir(path: string): readonly string[] {
    const prefix = path === "" ? "" : `${path}/`;
    const out: string[] = [];
    for (const p of this.nodes.keys()) {
      if (p !== "" && p.startsWith(prefix) && !p.slice(prefix.length).includes("/")) out.push(p.slice(prefix.length));
    }
    return sortBytes(out);
  }

  content(path: string): EntryContent {
    return { bytes: this.bytes(path) };
  }

  async *read(path: string): AsyncIterable<Uint8Array> {
    yield this.bytes(path);
  }

  private bytes(path: string): Uint8Array {
    const b = this.nodes.get(path)?.bytes;
    if (!b) throw new Error(`${path} is not a file of this tree`);
    return b;
  }

  private parents(path: string): void {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join("/");
      if (!this.nodes.has(p)) this.nodes.set(p, { node: { type: "directory", mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 } });
    }
  }
}
