import { createHash } from "node:crypto";
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync, type Stats } from "node:fs";
import { open } from "node:fs/promises";
import { resolve } from "node:path";
import { StrataError } from "@strata/graph";
import type { ContextEntry, SkippedEntry } from "./context-entry.ts";
import { joinRel, sortBytes } from "./go-path.ts";
import { findIgnoreFile, parseIgnoreFile } from "./ignore-file.ts";
import { onlyPrefixPatterns, PatternMatcher, someLiteralPatternUnder, type MatchInfo } from "./pattern-matcher.ts";
import { StatCache, type StatKey } from "./stat-cache.ts";

export interface SnapshotOptions {
  /** Only paths matching these patterns (and the directories leading to them) are kept. */
  readonly include?: readonly string[];
  /** `.dockerignore` patterns (already parsed); combined after `ignoreFile`'s. */
  readonly exclude?: readonly string[];
  /**
   * Where the ignore patterns come from: a path to read, `{ dockerfile }` to apply Docker's
   * lookup (`<Dockerfile>.dockerignore`, else `<context>/.dockerignore`), or false for none.
   * Default: `<context>/.dockerignore` when it exists.
   */
  readonly ignoreFile?: string | { readonly dockerfile: string } | false;
  /** A `StatCache`, or a directory holding per-root stat caches (e.g. `$STRATA_HOME/statcache`). */
  readonly statCache?: StatCache | string;
  /**
   * A file whose ctime or mtime is this close to the walk's start (ms) is hashed but its digest
   * not cached: a write within the filesystem's timestamp granularity could go unnoticed
   * (git's "racily clean" problem). Default 1000.
   */
  readonly racyWindowMs?: number;
}

export interface DigestStats {
  /** Digests answered from the stat cache (no read). */
  hits: number;
  /** Files read and hashed. */
  misses: number;
  bytesRead: number;
}

/** Files up to this size are read in one synchronous call; larger ones are streamed. */
const SMALL_FILE = 4 << 20;

/**
 * Walks a local directory the way Docker's context transfer does (BuildKit fsutil with
 * `.dockerignore` as exclude patterns): lexical order, symlinks not followed, sockets, fifos
 * and devices left out (`skipped`). A directory that is excluded but may hold a re-included
 * path is walked; it appears in the snapshot only if something below it is kept (with its
 * own metadata), as Docker sends it. Nothing is read: file digests are computed on demand
 * with `digestOf`, answered from the stat cache when (size, mtime, inode, ctime) match.
 */
export function snapshotContext(dir: string, opts: SnapshotOptions = {}): ContextSnapshot {
  const root = resolve(dir);
  let rootStat: Stats;
  try {
    rootStat = statSync(root); // the context itself may be a symlink to a directory
  } catch (e) {
    throw new StrataError("STRATA_CONTEXT_NOT_FOUND", `build context ${root} does not exist`, { cause: e });
  }
  if (!rootStat.isDirectory()) throw new StrataError("STRATA_CONTEXT_NOT_FOUND", `build context ${root} is not a directory`);

  const excludes: string[] = [];
  if (opts.ignoreFile !== false) {
    const found =
      typeof opts.ignoreFile === "string"
        ? findIgnoreFileAt(opts.ignoreFile)
        : findIgnoreFile(root, opts.ignoreFile?.dockerfile)?.patterns;
    if (found) excludes.push(...found);
  }
  if (opts.exclude) excludes.push(...opts.exclude);
  const exclude = excludes.length > 0 ? new PatternMatcher(excludes) : undefined;
  const include = opts.include && opts.include.length > 0 ? new PatternMatcher(opts.include) : undefined;

  const started = Date.now();
  const walker = new Walker(root, include, exclude);
  walker.walk("", [], [], [], false);
  const cache = opts.statCache instanceof StatCache ? opts.statCache : typeof opts.statCache === "string" ? StatCache.open(opts.statCache, root) : StatCache.memory();
  return new ContextSnapshot(root, walker.entries, walker.skipped, cache, started - (opts.racyWindowMs ?? 1000), include === undefined);
}

function findIgnoreFileAt(path: string): string[] {
  try {
    return parseIgnoreFile(readFileSync(path, "utf8"));
  } catch (e) {
    throw new StrataError("STRATA_CONTEXT_NOT_FOUND", `ignore file ${path} cannot be read: ${(e as Error).message}`, { cause: e });
  }
}

interface Pending {
  readonly entry: ContextEntry;
  emitted: boolean;
}

class Walker {
  readonly entries: ContextEntry[] = [];
  readonly skipped: SkippedEntry[] = [];
  private readonly onlyPrefixIncludes: boolean;
  private readonly onlyPrefixExceptions: boolean;

  constructor(
    private readonly root: string,
    private readonly include: PatternMatcher | undefined,
    private readonly exclude: PatternMatcher | undefined,
  ) {
    this.onlyPrefixIncludes = include ? onlyPrefixPatterns(include, false) : true;
    this.onlyPrefixExceptions = exclude ? onlyPrefixPatterns(exclude, true) : true;
  }

  /** `skipped`: this directory itself is excluded (walked only for possible exceptions). */
  walk(rel: string, incInfo: MatchInfo, excInfo: MatchInfo, parents: Pending[], skipped: boolean): void {
    const abs = rel === "" ? this.root : `${this.root}/${rel}`;
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch (e) {
      // fsutil ignores a permission error on a path it would not send anyway.
      if (skipped && (e as NodeJS.ErrnoException).code === "EACCES") return;
      throw new StrataError("STRATA_CONTEXT_UNREADABLE", `cannot read directory ${rel || "."} of the build context: ${(e as Error).message}`, {
        cause: e,
        hint: "exclude it in .dockerignore if the build does not need it",
      });
    }
    sortBytes(names);
    for (const name of names) {
      const path = joinRel(rel, name);
      const full = `${abs}/${name}`;
      let st: Stats;
      try {
        st = lstatSync(full);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") continue; // vanished during the walk
        throw e;
      }
      const isDir = st.isDirectory();
      let skip = false;
      let childInc: MatchInfo = [];
      let childExc: MatchInfo = [];
      if (this.include) {
        const r = this.include.matchesUsingParent(path, incInfo);
        childInc = r.info;
        if (!r.matched) {
          if (isDir && this.onlyPrefixIncludes && !someLiteralPatternUnder(this.include, false, path)) continue;
          skip = true;
        }
      }
      if (this.exclude) {
        const r = this.exclude.matchesUsingParent(path, excInfo);
        childExc = r.info;
        if (r.matched) {
          if (isDir && this.onlyPrefixExceptions && (!this.exclude.exclusions || !someLiteralPatternUnder(this.exclude, true, path))) continue;
          skip = true;
        }
      }
      const kind = specialKind(st);
      if (kind) {
        if (!skip) this.skipped.push({ path, kind });
        continue;
      }
      const entry = toEntry(path, full, st);
      if (!skip) {
        for (const p of parents) {
          if (!p.emitted) {
            this.entries.push(p.entry);
            p.emitted = true;
          }
        }
        this.entries.push(entry);
      }
      if (isDir) {
        parents.push({ entry, emitted: !skip });
        this.walk(path, childInc, childExc, parents, skip);
        parents.pop();
      }
    }
  }
}

function specialKind(st: Stats): SkippedEntry["kind"] | undefined {
  if (st.isSocket()) return "socket";
  if (st.isFIFO()) return "fifo";
  if (st.isCharacterDevice()) return "char-device";
  if (st.isBlockDevice()) return "block-device";
  return undefined;
}

function toEntry(path: string, full: string, st: Stats): ContextEntry {
  const type = st.isDirectory() ? "directory" : st.isSymbolicLink() ? "symlink" : "file";
  const base = {
    path,
    type,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: type === "file" ? st.size : 0,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    ino: st.ino,
    dev: st.dev,
    nlink: st.nlink,
  } as const;
  return type === "symlink" ? { ...base, linkname: readlinkSync(full) } : base;
}

/** The result of `snapshotContext`: the kept entries, sorted, and lazily computed digests. */
export class ContextSnapshot {
  private indexed: { byPath: Map<string, ContextEntry>; kids: Map<string, ContextEntry[]> } | undefined;
  private readonly memo = new Map<string, string>();
  readonly stats: DigestStats = { hits: 0, misses: 0, bytesRead: 0 };

  constructor(
    /** Absolute path of the context directory. */
    readonly root: string,
    /** Every kept path in walk order (parents before children, siblings by name bytes). */
    readonly entries: readonly ContextEntry[],
    readonly skipped: readonly SkippedEntry[],
    readonly statCache: StatCache,
    private readonly racyBefore: number,
    private readonly complete: boolean,
  ) {}

  /** Path and children indexes, built on first use (a no-op rebuild only needs the fingerprint). */
  private get index(): { byPath: Map<string, ContextEntry>; kids: Map<string, ContextEntry[]> } {
    if (this.indexed) return this.indexed;
    const byPath = new Map<string, ContextEntry>();
    const kids = new Map<string, ContextEntry[]>([["", []]]);
    for (const e of this.entries) {
      byPath.set(e.path, e);
      const slash = e.path.lastIndexOf("/");
      const parent = slash < 0 ? "" : e.path.slice(0, slash);
      let list = kids.get(parent);
      if (!list) {
        list = [];
        kids.set(parent, list);
      }
      list.push(e);
      if (e.type === "directory" && !kids.has(e.path)) kids.set(e.path, []);
    }
    this.indexed = { byPath, kids };
    return this.indexed;
  }

  /** The entry at a relative path (`""` is the root, which has no entry). */
  get(path: string): ContextEntry | undefined {
    return this.index.byPath.get(path);
  }

  /** Kept children of a directory, sorted by name bytes. */
  children(dir: string): readonly ContextEntry[] {
    return this.index.kids.get(dir) ?? [];
  }

  absolute(path: string): string {
    return path === "" ? this.root : `${this.root}/${path}`;
  }

  /**
   * `sha256:<hex>` of a regular file's bytes. Answered from the stat cache when the file's
   * (size, mtime, inode, ctime) are those it was hashed with; otherwise read (synchronously
   * when small, streamed when large) and cached.
   */
  async digestOf(entry: ContextEntry | string): Promise<string> {
    const e = this.fileEntry(entry);
    const known = this.lookup(e);
    if (known) return known;
    return this.remember(e, e.size <= SMALL_FILE ? this.hashSync(e) : await this.hashStream(e));
  }

  /** `digestOf` for files small enough to read synchronously; large files are streamed anyway. */
  digestOfSync(entry: ContextEntry | string): string {
    const e = this.fileEntry(entry);
    return this.lookup(e) ?? this.remember(e, this.hashSync(e));
  }

  /** Writes the stat cache (pruning paths this full walk did not see); nothing when it was not used. */
  saveStatCache(): void {
    if (!this.statCache.used) return;
    if (this.complete) for (const e of this.entries) if (e.type === "file") this.statCache.get(e.path, e);
    this.statCache.save({ prune: this.complete });
  }

  private fp: { digest: string; racy: boolean } | undefined;

  /**
   * A digest over every kept entry's path and stat fields (type, mode, owner, size, mtime,
   * ctime, inode, link target): equal fingerprints mean nothing in the context changed, so a
   * selection digest computed for the same fingerprint can be reused without looking at a
   * single file. `racy`: some file changed too recently to trust its timestamps (see
   * `racyWindowMs`), so the fingerprint must not be remembered.
   */
  fingerprint(): { digest: string; racy: boolean } {
    if (!this.fp) {
      const h = createHash("sha256");
      let racy = false;
      // Hashed in batches: one update per few hundred entries costs far less than one each.
      let batch = "";
      for (let i = 0; i < this.entries.length; i++) {
        const e = this.entries[i]!;
        batch += `${e.path}\0${e.type}\0${e.mode}\0${e.uid}\0${e.gid}\0${e.size}\0${e.mtimeMs}\0${e.ctimeMs}\0${e.ino}\0${e.linkname ?? ""}\n`;
        if (e.mtimeMs >= this.racyBefore || e.ctimeMs >= this.racyBefore) racy = true;
        if ((i & 255) === 255) {
          h.update(batch);
          batch = "";
        }
      }
      h.update(batch);
      this.fp = { digest: h.digest("hex"), racy };
    }
    return this.fp;
  }

  private fileEntry(entry: ContextEntry | string): ContextEntry {
    const e = typeof entry === "string" ? this.index.byPath.get(entry) : entry;
    if (!e) throw new StrataError("STRATA_CONTEXT_NOT_FOUND", `${String(entry)} is not in the build context`);
    if (e.type !== "file") throw new StrataError("STRATA_CONTEXT_NOT_A_FILE", `${e.path} is a ${e.type}, not a regular file`);
    return e;
  }

  private lookup(e: ContextEntry): string | undefined {
    const m = this.memo.get(e.path);
    if (m) return m;
    const d = this.statCache.get(e.path, e);
    if (d === undefined) return undefined;
    this.stats.hits++;
    const digest = `sha256:${d}`;
    this.memo.set(e.path, digest);
    return digest;
  }

  private remember(e: ContextEntry, r: { hex: string; stable: boolean }): string {
    const digest = `sha256:${r.hex}`;
    this.memo.set(e.path, digest);
    const racy = e.mtimeMs >= this.racyBefore || e.ctimeMs >= this.racyBefore;
    if (r.stable && !racy) this.statCache.set(e.path, e, r.hex);
    return digest;
  }

  private hashSync(e: ContextEntry): { hex: string; stable: boolean } {
    const fd = this.openFile(e);
    try {
      const hash = createHash("sha256");
      const buf = Buffer.allocUnsafe(Math.min(Math.max(e.size, 1), 1 << 20) + 1);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        this.stats.bytesRead += n;
        hash.update(n === buf.length ? buf : buf.subarray(0, n));
      }
      this.stats.misses++;
      return { hex: hash.digest("hex"), stable: sameStat(fstatSync(fd), e) };
    } finally {
      closeSync(fd);
    }
  }

  private async hashStream(e: ContextEntry): Promise<{ hex: string; stable: boolean }> {
    const fh = await open(this.absolute(e.path), NOFOLLOW);
    try {
      const hash = createHash("sha256");
      const buf = Buffer.allocUnsafe(1 << 20);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        this.stats.bytesRead += bytesRead;
        hash.update(buf.subarray(0, bytesRead));
      }
      this.stats.misses++;
      return { hex: hash.digest("hex"), stable: sameStat(await fh.stat(), e) };
    } finally {
      await fh.close();
    }
  }

  private openFile(e: ContextEntry): number {
    try {
      return openSync(this.absolute(e.path), NOFOLLOW);
    } catch (err) {
      throw new StrataError("STRATA_CONTEXT_UNREADABLE", `cannot read ${e.path} from the build context: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** A context file the walk saw as a regular file is never read through a link swapped in since. */
const NOFOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW;

/** Whether the file read is still the one the walk saw (else the digest is not cached). */
function sameStat(st: Stats, key: StatKey): boolean {
  return st.size === key.size && st.mtimeMs === key.mtimeMs && st.ino === key.ino && st.ctimeMs === key.ctimeMs;
}
