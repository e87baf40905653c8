import {
  chmodSync,
  closeSync,
  copyFileSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  type Stats,
} from "node:fs";
import { createHash } from "node:crypto";
import { join, posix, resolve } from "node:path";
import { resolveLocation, StrataError, templateLiteralValue, type FileOp, type LayerGraph, type Op, type SourceOp } from "@strata/graph";
import type { ContextFile } from "@strata/dockerfile";
import type { ContextEntry, ContextSnapshot } from "@strata/engine";

/** What a graph reads from one local context: the context's source op and the paths (patterns) read. */
interface ContextUse {
  readonly op: SourceOp;
  readonly patterns: Set<string>;
  /** ADD steps with --chown reading this context (docker 20.10 unpacks archives with their own owners). */
  readonly addChown: { readonly op: FileOp; readonly src: readonly string[] }[];
}

export interface GeneratedContext {
  readonly files: number;
  readonly bytes: number;
}

/**
 * Writes the build context docker gets into `dest` (kept between builds, see syncEntries): only
 * what the graph reads from the default context — the paths its copies and bind mounts select,
 * after the context's include/exclude filter, as the native engine sees them (modes, symlinks,
 * hard links and mtimes kept) — plus the exporter's inline files. Docker then transfers and
 * hashes no more than the native engine reads.
 */
export async function writeBuildContext(
  graph: LayerGraph,
  dest: string,
  opts: {
    readonly moduleDir: string;
    readonly contextDir?: string | undefined;
    readonly contextFiles: readonly ContextFile[];
    /** Refuse ADD --chown of an archive (the engine would keep the archive's owners). */
    readonly refuseArchiveChown?: boolean;
  },
): Promise<GeneratedContext> {
  mkdirSync(dest, { recursive: true });
  const uses = contextUses(graph);
  let files = 0;
  let bytes = 0;
  for (const [name, use] of uses) {
    if (name !== "context") {
      throw new StrataError("STRATA_DOCKER_NAMED_CONTEXT", `the named build context ${JSON.stringify(name)} cannot be sent to this docker build`, {
        locations: [resolveLocation(use.op.meta)],
        hint: "Docker's built-in Dockerfile frontend reads only the default context: copy from context(…) without a name, or build natively",
      });
    }
    const s = use.op.source as Extract<SourceOp["source"], { type: "local" }>;
    const dir = opts.contextDir ?? resolve(opts.moduleDir, s.path ?? ".");
    const { snapshotContext } = await import("@strata/engine");
    const snapshot = snapshotContext(dir, { ...(s.include ? { include: [...s.include] } : {}), ...(s.exclude ? { exclude: [...s.exclude] } : {}), ignoreFile: false });
    if (opts.refuseArchiveChown) for (const a of use.addChown) await refuseArchives(snapshot, a.op, a.src);
    const keep = await selectPaths(snapshot, [...use.patterns]);
    const copied = syncEntries(snapshot, keep, dest, new Set(opts.contextFiles.map((f) => f.path)));
    // The context root too: copying `.` gives the destination directory the root's mode.
    const root = statSync(snapshot.root);
    chmodSync(dest, root.mode & 0o7777);
    utimesSync(dest, root.atime, root.mtime);
    files += copied.files;
    bytes += copied.bytes;
  }
  if (!uses.has("context")) removeUnwanted(dest, "", (rel) => opts.contextFiles.some((f) => f.path === rel || f.path.startsWith(`${rel}/`)));
  for (const f of opts.contextFiles) {
    const path = join(dest, f.path);
    mkdirSync(posix.dirname(path), { recursive: true });
    const same = lstatOrUndefined(path)?.isFile() && readFileSync(path, "utf8") === f.data;
    if (!same) writeFileSync(path, f.data);
    chmodSync(path, f.mode);
    files++;
    bytes += Buffer.byteLength(f.data);
  }
  return { files, bytes };
}

/** Every local context the graph reads, with the paths read (copy sources, bind/cache mount sources). */
function contextUses(graph: LayerGraph): Map<string, ContextUse> {
  const uses = new Map<string, ContextUse>();
  const use = (input: Op | undefined, patterns: readonly string[]) => {
    if (input?.kind !== "SourceOp" || input.source.type !== "local") return undefined;
    const u = uses.get(input.source.name) ?? { op: input, patterns: new Set<string>(), addChown: [] };
    uses.set(input.source.name, u);
    for (const p of patterns) u.patterns.add(p);
    return u;
  };
  for (const op of graph.nodes.values()) {
    if (op.kind === "FileOp") {
      for (const a of op.actions) {
        if (a.action !== "copy") continue;
        const u = use(op.inputs[a.from], a.src);
        if (u && a.add && a.chown !== undefined && a.unpack !== false) u.addChown.push({ op, src: a.src });
      }
    } else if (op.kind === "ExecOp") {
      for (const m of op.mounts) if ("input" in m && m.input !== undefined) use(op.inputs[m.input], ["source" in m && m.source !== undefined ? m.source : "."]);
    }
  }
  return uses;
}

/** Archive formats ADD unpacks, by their first bytes (tar by its `ustar` magic at 257). */
function isArchive(head: Buffer): boolean {
  const starts = (...b: number[]) => b.every((x, i) => head[i] === x);
  return starts(0x1f, 0x8b) || starts(0x42, 0x5a, 0x68) || starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00) || starts(0x28, 0xb5, 0x2f, 0xfd) || head.subarray(257, 262).toString("latin1") === "ustar";
}

/** Docker 20.10 unpacks `ADD --chown` archives with the archive's owners: refuse rather than build another image. */
async function refuseArchives(snapshot: ContextSnapshot, op: FileOp, src: readonly string[]): Promise<void> {
  const { goMatch, containsWildcards, cleanPath } = await import("@strata/engine");
  for (const raw of src) {
    const literal = templateLiteralValue(raw);
    const p = literal === undefined ? undefined : cleanPath(`/${literal}`).replace(/^\/+/, "");
    const matches = snapshot.entries.filter((e) => (p === undefined ? true : containsWildcards(p) ? goMatch(p, e.path) : e.path === p));
    for (const e of matches) {
      if (e.type !== "file" || e.size < 4) continue;
      const fd = openSync(snapshot.absolute(e.path), "r");
      const head = Buffer.alloc(262);
      try {
        readSync(fd, head, 0, 262, 0);
      } finally {
        closeSync(fd);
      }
      if (!isArchive(head)) continue;
      throw new StrataError("STRATA_EXPORT_UNSUPPORTED", `ADD --chown of the archive ${e.path} cannot be built the same by this engine`, {
        locations: [resolveLocation(op.meta)],
        hint: "docker 20.10 unpacks it with the archive's own owners; chown in a run() step, or build natively",
      });
    }
  }
}

/**
 * The context paths the patterns select, with their subtrees, the directories above them, and
 * the targets of symlinks on the way (COPY follows a symlink named by a source, and any symlinked
 * directory in a source path). A pattern that reads a build arg selects everything.
 */
async function selectPaths(snapshot: ContextSnapshot, patterns: readonly string[]): Promise<Set<string>> {
  const { cleanPath, containsWildcards, goMatch } = await import("@strata/engine");
  const keep = new Set<string>();
  const all = snapshot.entries;
  const addTree = (p: string) => {
    if (p === "") {
      for (const e of all) keep.add(e.path);
      return;
    }
    for (const e of all) if (e.path === p || e.path.startsWith(`${p}/`)) keep.add(e.path);
  };
  // Resolves symlinks along `path` (keeping each link), as a copy source is resolved in its context.
  const follow = (path: string, hops = 0): string => {
    const parts = path.split("/").filter((x) => x !== "" && x !== ".");
    for (let i = 0; i < parts.length; i++) {
      const sub = parts.slice(0, i + 1).join("/");
      const e = snapshot.get(sub);
      if (e?.type !== "symlink" || hops > 40) continue;
      keep.add(sub);
      const target = e.linkname!.startsWith("/") ? e.linkname! : posix.join(posix.dirname(`/${sub}`), e.linkname!);
      return follow(posix.join(posix.normalize(target), ...parts.slice(i + 1)).replace(/^\/+/, ""), hops + 1);
    }
    return parts.join("/");
  };
  for (const raw of patterns) {
    const literal = templateLiteralValue(raw);
    if (literal === undefined) {
      addTree("");
      continue;
    }
    const p = cleanPath(`/${literal}`).replace(/^\/+/, "");
    if (p === "" || p === ".") {
      addTree("");
      continue;
    }
    if (!containsWildcards(p)) {
      addTree(follow(p));
      continue;
    }
    for (const e of all) if (goMatch(p, e.path)) addTree(follow(e.path));
  }
  for (const p of [...keep]) for (let d = posix.dirname(p); d !== "." && d !== "/" && !keep.has(d); d = posix.dirname(d)) keep.add(d);
  return keep;
}

/**
 * Makes `dest` hold exactly the kept entries (modes, symlinks, hard links, mtimes), touching
 * only what changed since the last build into it: a file whose size, mode and mtime match is
 * left alone, anything not kept is removed. (BuildKit's context transfer is incremental for a
 * directory it has seen before, so an unchanged context costs a walk, not a copy.)
 */
function syncEntries(snapshot: ContextSnapshot, keep: ReadonlySet<string>, dest: string, extra: ReadonlySet<string>): GeneratedContext {
  let files = 0;
  let bytes = 0;
  removeUnwanted(dest, "", (rel, st) => {
    if (extra.has(rel) || [...extra].some((x) => x.startsWith(`${rel}/`))) return true;
    const e = keep.has(rel) ? snapshot.get(rel) : undefined;
    return e !== undefined && e.type === kindOf(st);
  });
  const links = new Map<string, { to: string; ino: number }>();
  const dirs: ContextEntry[] = [];
  const now = Date.now();
  for (const e of snapshot.entries) {
    if (!keep.has(e.path)) continue;
    const to = join(dest, e.path);
    const have = lstatOrUndefined(to);
    const mtime = e.mtimeMs / 1000;
    if (e.type === "directory") {
      if (!have) mkdirSync(to);
      dirs.push(e);
      continue;
    }
    if (e.type === "symlink") {
      if (have && readlinkSync(to) === e.linkname) continue;
      if (have) unlinkSync(to);
      symlinkSync(e.linkname!, to);
      lutimesSync(to, mtime, mtime);
      continue;
    }
    files++;
    const key = `${e.dev}:${e.ino}`;
    const first = e.nlink > 1 ? links.get(key) : undefined;
    if (first !== undefined) {
      if (have?.ino === first.ino) continue;
      if (have) unlinkSync(to);
      linkSync(first.to, to);
      continue;
    }
    bytes += e.size;
    // Size, mode and mtime as copied last time; a file changed within the racy window is copied
    // again anyway (an edit in the same millisecond would keep its mtime).
    const same = have !== undefined && (have.nlink === 1 || e.nlink > 1) && have.size === e.size && (have.mode & 0o7777) === e.mode && Math.abs(have.mtimeMs - e.mtimeMs) < 1 && now - Math.max(e.mtimeMs, e.ctimeMs) > RACY_MS;
    if (!same) {
      if (have) unlinkSync(to);
      copyFileSync(snapshot.absolute(e.path), to);
      chmodSync(to, e.mode);
      utimesSync(to, mtime, mtime);
    }
    if (e.nlink > 1) links.set(key, { to, ino: lstatSync(to).ino });
  }
  // Directories last, deepest first: writing into them changed their mtimes.
  for (const d of dirs.reverse()) {
    const to = join(dest, d.path);
    chmodSync(to, d.mode);
    utimesSync(to, d.mtimeMs / 1000, d.mtimeMs / 1000);
  }
  return { files, bytes };
}

const RACY_MS = 2000;

/** Removes what `wanted` rejects under `dir` (depth first); keeps walking into wanted directories. */
function removeUnwanted(root: string, rel: string, wanted: (rel: string, st: Stats) => boolean): void {
  for (const name of readdirSync(join(root, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(root, r));
    if (!wanted(r, st)) rmSync(join(root, r), { recursive: true, force: true });
    else if (st.isDirectory()) removeUnwanted(root, r, wanted);
  }
}

function kindOf(st: Stats): string {
  return st.isDirectory() ? "directory" : st.isSymbolicLink() ? "symlink" : st.isFile() ? "file" : "other";
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The directory the build context of one target is kept in between builds
 * (`$STRATA_HOME/docker-contexts/<key>`), locked for this build; a temporary one when another
 * build of the same target holds it.
 */
export function contextDirectory(home: string, key: string, fallback: string): { dir: string; release(): void } {
  const dir = join(home, "docker-contexts", createHash("sha256").update(key).digest("hex").slice(0, 16));
  mkdirSync(dir, { recursive: true });
  const lock = `${dir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      return { dir, release: () => rmSync(lock, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number(readFileSync(lock, "utf8"));
      if (alive(pid)) break;
      rmSync(lock, { force: true }); // left by a build that died
    }
  }
  mkdirSync(fallback, { recursive: true });
  return { dir: fallback, release: () => {} };
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
