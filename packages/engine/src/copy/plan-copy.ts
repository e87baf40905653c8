import { StrataError } from "@strata/graph";
import type { LayerEntry } from "@strata/oci";
import { basename, dirname, joinRel, rootRelative, sortBytes } from "../context/go-path.ts";
import { containsWildcards } from "../context/go-match.ts";
import { onlyPrefixPatterns, PatternMatcher, someLiteralPatternUnder, type MatchInfo } from "../context/pattern-matcher.ts";
import { EMPTY_BASE, type BaseFs } from "./base-fs.ts";
import { parseChmod, type ModeChange } from "./chmod.ts";
import { resolveChown, type Owner } from "./chown.ts";
import { OutputTree } from "./output-tree.ts";
import { resolveSources, type ResolvedSource } from "./sources.ts";
import type { SourceNode, SourceTree } from "./source-tree.ts";
import { isArchiveSource, unpackArchive } from "./unpack.ts";

export interface CopyOptions {
  /** What the sources are read from. */
  readonly source: SourceTree;
  /** Source paths or globs, templates already expanded. */
  readonly src: readonly string[];
  /** Destination; relative paths resolve against `workdir`; a trailing `/` (or `.`) means "a directory". */
  readonly dest: string;
  /** The WORKDIR of the destination stage (absolute). Default `/`. */
  readonly workdir?: string;
  /** The destination image's filesystem before this copy. Default: scratch. */
  readonly base?: BaseFs;
  /** `--chown`: a spec (`user`, `user:group`, `uid:gid`…) or an already resolved owner. */
  readonly chown?: string | Owner;
  /** Resolves a `--chown` spec; default `resolveChown(spec, base)` (the destination's passwd/group). */
  readonly resolveUser?: (spec: string) => Promise<Owner>;
  /** `--chmod`: octal or symbolic. */
  readonly chmod?: string;
  readonly parents?: boolean;
  readonly exclude?: readonly string[];
  /**
   * `--link`: plan the copy onto an empty filesystem, so the layer does not depend on the
   * base: the destination path is not resolved through the base's symlinks, existing
   * directories are not consulted and every parent is written as a new 0755 directory
   * (owned by the `--chown` owner), as BuildKit's `COPY --link` layer has them.
   */
  readonly link?: boolean;
  /** ADD: a local tar archive (plain, gzip, bzip2, xz, zstd) is unpacked into `dest`. */
  readonly add?: boolean;
  /** Force unpacking on (for any copy) or off (for ADD). */
  readonly unpack?: boolean;
  /** Follow a symlink named by a source argument (Dockerfile COPY does). Default true. */
  readonly followSymlinks?: boolean;
  /**
   * Accept sources that select nothing at all (BuildKit does, silently writing nothing).
   * Default false: a COPY whose sources all match nothing is an error, as in Docker's classic
   * builder; a wildcard matching nothing next to sources that match is always fine.
   */
  readonly allowEmptyWildcard?: boolean;
  /** mtime (seconds) of directories the copy creates. Default 0 (the writer clamps anyway). */
  readonly timestamp?: number;
  /** Where an unpacked archive's larger files are written (else they are kept in memory). */
  readonly scratchDir?: string;
}

export interface CopyPlan {
  /** The layer's entries, sorted by path bytes. */
  readonly entries: LayerEntry[];
  /** For each planned regular file, the source tree path it is read from (unpacked archive members excluded). */
  readonly origins: ReadonlyMap<string, string>;
}

/** Plans one COPY/ADD: the sorted entries of the layer it produces. */
export async function planCopy(opts: CopyOptions): Promise<LayerEntry[]> {
  return (await planCopyDetailed(opts)).entries;
}

/**
 * Docker's COPY/ADD rules (BuildKit's dockerfile frontend + fsutil copy), checked against
 * docker 20.10 here:
 * - a directory source copies its contents; a file or symlink-followed file keeps its name;
 * - the destination is a directory when it ends with `/` or already is one (through
 *   symlinks, scoped to the root); otherwise a file source is written at that path;
 * - missing destination parents are created 0755, owned by the `--chown` owner (else 0:0);
 *   an existing destination directory keeps its metadata, but existing directories *below*
 *   it take the source directory's metadata;
 * - without `--chown` entries keep the source's owner (0:0 for the build context);
 *   `--chown` applies to every copied entry and to created parents;
 * - `--chmod` applies to copied files and directories (not symlinks, not created parents);
 * - symlinks inside copied directories are copied as links; hard links between copied files
 *   stay hard links;
 * - existing parent directories of what the copy writes appear in the layer with the base's
 *   metadata (as in a layer Docker diffs from its snapshot).
 */
export async function planCopyDetailed(opts: CopyOptions): Promise<CopyPlan> {
  const base = opts.link ? EMPTY_BASE : (opts.base ?? EMPTY_BASE);
  const owner = await ownerOf(opts, opts.base ?? EMPTY_BASE);
  const planner = new Planner(opts, base, owner, opts.chmod !== undefined ? parseChmod(opts.chmod) : undefined);
  return planner.run();
}

async function ownerOf(opts: CopyOptions, base: BaseFs): Promise<Owner | undefined> {
  if (opts.chown === undefined) return undefined;
  if (typeof opts.chown !== "string") return opts.chown;
  return opts.resolveUser ? opts.resolveUser(opts.chown) : resolveChown(opts.chown, base);
}

interface Pending {
  readonly src: string;
  readonly target: string;
  readonly node: SourceNode;
  copied: boolean;
}

class Planner {
  private readonly out: OutputTree;
  private readonly origins = new Map<string, string>();
  private readonly exclude: PatternMatcher | undefined;
  private readonly excludeSkippable: boolean;
  private readonly destPath: string;
  private readonly destIsDir: boolean;

  constructor(
    private readonly opts: CopyOptions,
    base: BaseFs,
    private readonly owner: Owner | undefined,
    private readonly chmod: ModeChange | undefined,
  ) {
    this.out = new OutputTree(base, opts.timestamp ?? 0);
    this.exclude = opts.exclude && opts.exclude.length > 0 ? new PatternMatcher(opts.exclude) : undefined;
    this.excludeSkippable = this.exclude ? onlyPrefixPatterns(this.exclude, true) : true;
    const d = opts.dest;
    const abs = d.startsWith("/") ? d : `${opts.workdir ?? "/"}/${d}`;
    this.destPath = rootRelative(abs);
    this.destIsDir = d === "" || d === "." || d.endsWith("/") || d.endsWith("/.");
  }

  async run(): Promise<CopyPlan> {
    const resolved: ResolvedSource[][] = this.opts.src.map((arg) =>
      resolveSources(this.opts.source, arg, {
        ...(this.opts.parents !== undefined ? { parents: this.opts.parents } : {}),
        ...(this.opts.followSymlinks !== undefined ? { followSymlinks: this.opts.followSymlinks } : {}),
        ...(this.exclude ? { exclude: this.exclude } : {}),
      }),
    );
    const total = resolved.reduce((n, r) => n + r.length, 0);
    if (total === 0 && !this.opts.allowEmptyWildcard) {
      const what = this.opts.src.filter(containsWildcards).map((s) => JSON.stringify(s)).join(", ");
      throw new StrataError("STRATA_COPY_NO_MATCH", `no source files were specified: ${what || "(none)"} matched nothing`, {
        hint: "check the pattern and .dockerignore",
      });
    }
    if (total > 1 && !this.destIsDir && this.out.statFollow(this.destPath)?.type !== "directory") {
      throw new StrataError(
        "STRATA_COPY_DEST_NOT_DIR",
        `when copying more than one source file (${total}), the destination must be a directory and end with a /: ${JSON.stringify(this.opts.dest)}`,
        { hint: `write ${JSON.stringify(this.opts.dest.replace(/\/*$/, "/"))}` },
      );
    }
    const unpack = this.opts.unpack ?? this.opts.add ?? false;
    for (const matches of resolved) {
      const links = new Map<string, string>(); // one fsutil copier per source argument
      for (const m of matches) {
        if (unpack && m.node.type === "file" && (await isArchiveSource(this.opts.source, m.followed))) {
          await this.unpack(m);
          continue;
        }
        this.copyOne(m, links);
      }
    }
    const entries = this.out.entries({ withParents: !this.opts.link });
    return { entries, origins: this.origins };
  }

  private async unpack(m: ResolvedSource): Promise<void> {
    const dest = this.out.resolve(this.destPath);
    this.out.mkdirAll(dest, this.owner);
    await unpackArchive(this.opts.source, m.followed, dest, this.out, {
      ...(this.owner ? { owner: this.owner } : {}),
      ...(this.opts.scratchDir ? { scratchDir: this.opts.scratchDir } : {}),
    });
  }

  /** fsutil's `Copy` for one matched source. */
  private copyOne(m: ResolvedSource, links: Map<string, string>): void {
    const ensure = this.destIsDir ? this.destPath : dirname(this.destPath);
    if (ensure !== "" || this.destIsDir) this.out.mkdirAll(this.out.resolve(ensure), this.owner);
    let dst = this.out.resolve(this.destPath);
    const srcIsDir = m.node.type === "directory";
    const existing = this.out.statFollow(dst);
    if (!srcIsDir && existing?.type === "directory") dst = joinRel(dst, basename(m.path));
    const target = srcIsDir && !existing ? dst : dirname(dst);
    this.out.mkdirAll(target, this.owner);
    this.copyNode(m.followed, "", dst, false, [], [], [], m.include, links);
  }

  private copyNode(
    src: string,
    comps: string,
    target: string,
    overwrite: boolean,
    incInfo: MatchInfo,
    excInfo: MatchInfo,
    pending: Pending[],
    include: PatternMatcher | undefined,
    links: Map<string, string>,
  ): void {
    const tree = this.opts.source;
    const node = tree.lstat(src);
    if (!node) return;
    const isDir = node.type === "directory";
    let included = true;
    let childInc: MatchInfo = [];
    let childExc: MatchInfo = [];
    if (comps !== "") {
      if (include) {
        const r = include.matchesUsingParent(comps, incInfo);
        childInc = r.info;
        included = r.matched;
        if (!included && isDir && onlyPrefixPatterns(include, false) && !someLiteralPatternUnder(include, false, comps)) return;
      }
      if (this.exclude) {
        const r = this.exclude.matchesUsingParent(comps, excInfo);
        childExc = r.info;
        if (r.matched) {
          included = false;
          // Nothing below can be re-included: skip the walk (fsutil does the same).
          if (!isDir || !this.exclude.exclusions || (this.excludeSkippable && !someLiteralPatternUnder(this.exclude, true, comps))) return;
        }
      }
    }
    if (included) this.createParents(pending, overwrite, include !== undefined);
    if (!isDir) {
      if (!included) return;
      if (this.out.lstat(target)?.type === "directory") {
        throw new StrataError("STRATA_COPY_NOT_DIR", `cannot replace directory /${target} with a ${node.type}`);
      }
      this.writeLeaf(src, target, node, links);
      return;
    }
    const entry: Pending = { src, target, node, copied: false };
    if (included) {
      this.copyDirectory(node, target, overwrite, include !== undefined);
      entry.copied = true;
    }
    pending.push(entry);
    for (const name of sortBytes([...tree.readdir(src)])) {
      this.copyNode(joinRel(src, name), joinRel(comps, name), joinRel(target, name), true, childInc, childExc, pending, include, links);
    }
    pending.pop();
  }

  /** Directories left uncreated because they did not match themselves, now needed by a match below. */
  private createParents(pending: Pending[], overwrite: boolean, withInclude: boolean): void {
    for (const p of pending) {
      if (p.copied) continue;
      this.copyDirectory(p.node, p.target, overwrite, withInclude);
      p.copied = true;
    }
  }

  /**
   * A new directory takes the source's metadata (with --chmod/--chown); an existing one keeps
   * its own at the top of the copy, and below it takes the source's (only its mode when the
   * copy selects with --parents patterns, as fsutil does).
   */
  private copyDirectory(node: SourceNode, target: string, overwrite: boolean, withInclude: boolean): void {
    const existing = this.out.lstat(target);
    if (existing && existing.type !== "directory") {
      throw new StrataError("STRATA_COPY_NOT_DIR", `cannot copy a directory to non-directory /${target}`);
    }
    if (!existing) {
      this.out.put({ type: "directory", path: target, ...this.meta(node, true) });
      return;
    }
    if (!overwrite) return;
    if (withInclude) this.out.put({ type: "directory", path: target, mode: node.mode, uid: existing.uid, gid: existing.gid, mtime: existing.mtime });
    else this.out.put({ type: "directory", path: target, ...this.meta(node, true) });
  }

  private writeLeaf(src: string, target: string, node: SourceNode, links: Map<string, string>): void {
    switch (node.type) {
      case "file": {
        const first = node.linkKey !== undefined ? links.get(node.linkKey) : undefined;
        if (first !== undefined && this.out.lstat(first)?.type === "file") {
          this.out.put({ type: "hardlink", path: target, linkname: first, ...this.meta(node, false) });
          return;
        }
        if (node.linkKey !== undefined) links.set(node.linkKey, target);
        this.out.put({ type: "file", path: target, size: node.size, content: this.opts.source.content(src), ...this.meta(node, false) });
        this.origins.set(target, src);
        return;
      }
      case "symlink":
        this.out.put({ type: "symlink", path: target, linkname: node.linkname ?? "", ...this.meta(node, false), mode: 0o777 });
        return;
      case "fifo":
        this.out.put({ type: "fifo", path: target, ...this.meta(node, false) });
        return;
      case "char-device":
      case "block-device":
        this.out.put({ type: node.type, path: target, devmajor: node.devmajor ?? 0, devminor: node.devminor ?? 0, ...this.meta(node, false) });
        return;
      case "directory":
        return;
    }
  }

  private meta(node: SourceNode, isDir: boolean): { mode: number; uid: number; gid: number; mtime: number; xattrs?: Readonly<Record<string, Uint8Array>> } {
    return {
      mode: this.chmod ? this.chmod(node.mode, isDir) : node.mode,
      uid: this.owner ? this.owner.uid : node.uid,
      gid: this.owner ? this.owner.gid : node.gid,
      mtime: node.mtime,
      ...(node.xattrs ? { xattrs: node.xattrs } : {}),
    };
  }
}


