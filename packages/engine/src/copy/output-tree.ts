import { StrataError } from "@strata/graph";
import type { LayerEntry } from "@strata/oci";
import { dirname, sortBytes } from "../context/go-path.ts";
import type { BaseFs, BaseNode } from "./base-fs.ts";
import type { Owner } from "./chown.ts";
import { resolveInRoot } from "./resolve-path.ts";

/** A layer entry that is not a whiteout or opaque marker (what COPY and ADD produce). */
export type PlannedEntry = Exclude<LayerEntry, { type: "whiteout" } | { type: "opaque" }>;

/**
 * The destination filesystem as the copy builds it: the planned entries over the base. Paths
 * are resolved through both (a directory the copy created is as real as one of the base),
 * which is how fsutil sees the snapshot it writes into.
 */
export class OutputTree {
  private readonly planned = new Map<string, PlannedEntry>();
  /** Paths that planned hard links point at. */
  private readonly linkTargets = new Set<string>();

  constructor(
    readonly base: BaseFs,
    private readonly timestamp: number,
  ) {}

  lstat(path: string): BaseNode | undefined {
    const e = this.planned.get(path);
    if (!e) return this.base.lstat(path);
    const type = e.type === "directory" ? "directory" : e.type === "symlink" ? "symlink" : e.type === "file" || e.type === "hardlink" ? "file" : "other";
    return { type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime, ...(e.type === "symlink" ? { linkname: e.linkname } : {}) };
  }

  get(path: string): PlannedEntry | undefined {
    return this.planned.get(path);
  }

  /** `fs.RootPath`: symlinks followed, scoped to the root. */
  resolve(path: string, followLast = true): string {
    return resolveInRoot((p) => this.lstat(p), path, followLast);
  }

  /** `os.Stat` of a path (symlinks followed). */
  statFollow(path: string): BaseNode | undefined {
    return this.lstat(this.resolve(path));
  }

  put(e: PlannedEntry): void {
    const old = this.planned.get(e.path);
    if (old?.type === "file" && this.linkTargets.has(e.path)) this.detachLinks(old);
    this.planned.set(e.path, e);
    if (e.type === "hardlink") this.linkTargets.add(e.linkname);
  }

  /** Forgets planned entries at and below `path` (a replaced tree). */
  removePlanned(path: string): void {
    const prefix = `${path}/`;
    for (const p of [...this.planned.keys()]) {
      if (p !== path && !p.startsWith(prefix)) continue;
      const old = this.planned.get(p);
      if (old?.type === "file" && this.linkTargets.has(p)) this.detachLinks(old);
      this.planned.delete(p);
    }
  }

  /**
   * A file that hard links point at is being replaced: on disk the links would keep the old
   * inode, so the first link becomes the holder of the old content and the others follow it.
   */
  private detachLinks(old: Extract<PlannedEntry, { type: "file" }>): void {
    this.linkTargets.delete(old.path);
    let holder: string | undefined;
    for (const [p, e] of this.planned) {
      if (e.type !== "hardlink" || e.linkname !== old.path) continue;
      if (holder === undefined) {
        holder = p;
        this.planned.set(p, { ...old, path: p, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime });
      } else {
        this.planned.set(p, { ...e, linkname: holder });
        this.linkTargets.add(holder);
      }
    }
  }

  /**
   * fsutil's `MkdirAll`: every missing directory on the (resolved) path is created 0755 and
   * owned by `owner` (0:0 without one); an existing non-directory on the way is an error.
   */
  mkdirAll(path: string, owner: Owner | undefined, mode = 0o755): void {
    if (path === "") return;
    const st = this.statFollow(path);
    if (st) {
      if (st.type === "directory") return;
      throw new StrataError("STRATA_COPY_NOT_DIR", `cannot create directory /${path}: a ${st.type} is in the way`);
    }
    this.mkdirAll(dirname(path), owner, mode);
    this.put({ type: "directory", path, mode, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0, mtime: this.timestamp });
  }

  /**
   * The planned entries sorted by path bytes. `withParents` adds the existing base directories
   * above them with the base's metadata, as a layer diffed from a snapshot contains them.
   */
  entries(opts: { withParents: boolean }): PlannedEntry[] {
    const all = new Map(this.planned);
    if (opts.withParents) {
      for (const path of this.planned.keys()) {
        for (let d = dirname(path); d !== "" && !all.has(d); d = dirname(d)) {
          const b = this.base.lstat(d);
          all.set(d, { type: "directory", path: d, mode: b?.mode ?? 0o755, uid: b?.uid ?? 0, gid: b?.gid ?? 0, mtime: b?.mtime ?? this.timestamp });
        }
      }
    }
    const byPath = new Map([...all.values()].map((e) => [e.path, e]));
    return sortBytes([...byPath.keys()]).map((p) => byPath.get(p) as PlannedEntry);
  }
}
