import { lstatSync, readFileSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";

export type BaseNodeType = "file" | "directory" | "symlink" | "other";

/** One path of the destination image's filesystem, as the layers below the COPY leave it. */
export interface BaseNode {
  readonly type: BaseNodeType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  readonly linkname?: string;
}

/**
 * A read-only view of the destination image (the solver implements it over the layer
 * tables of contents). Paths are root-relative, `/`-separated, `""` is the root; `lstat`
 * does not follow symlinks. `readFile` gives a regular file's bytes (used for
 * `/etc/passwd` and `/etc/group`), undefined when the path is not a regular file.
 */
export interface BaseFs {
  lstat(path: string): BaseNode | undefined;
  readFile(path: string): Promise<Uint8Array | undefined>;
}

/** `scratch`: nothing but the root directory. */
export const EMPTY_BASE: BaseFs = {
  lstat: (path) => (path === "" ? { type: "directory", mode: 0o755, uid: 0, gid: 0, mtime: 0 } : undefined),
  readFile: async () => undefined,
};

/** An unpacked root filesystem on disk as a base (tests; extracted snapshots). */
export class DirectoryBaseFs implements BaseFs {
  constructor(readonly root: string) {}

  lstat(path: string): BaseNode | undefined {
    let st: Stats;
    try {
      st = lstatSync(this.abs(path));
    } catch {
      return undefined;
    }
    const type: BaseNodeType = st.isDirectory() ? "directory" : st.isSymbolicLink() ? "symlink" : st.isFile() ? "file" : "other";
    return {
      type,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: Math.floor(st.mtimeMs / 1000),
      ...(type === "symlink" ? { linkname: readlinkSync(this.abs(path)) } : {}),
    };
  }

  async readFile(path: string): Promise<Uint8Array | undefined> {
    if (this.lstat(path)?.type !== "file") return undefined;
    return readFileSync(this.abs(path));
  }

  private abs(path: string): string {
    return path === "" ? this.root : join(this.root, path);
  }
}
