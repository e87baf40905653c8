import { chmodSync, copyFileSync, linkSync, lutimesSync, mkdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join, posix, resolve } from "node:path";
import { resolveLocation, StrataError, templateLiteralValue, type LayerGraph, type Op, type SourceOp } from "@strata/graph";
import type { ContextFile } from "@strata/dockerfile";
import type { ContextEntry, ContextSnapshot } from "@strata/build";

/** What a graph reads from one local context: the context's source op and the paths (patterns) read. */
interface ContextUse {
  readonly op: SourceOp;
  readonly patterns: Set<string>;
}

export interface GeneratedContext {
  readonly files: number;
  readonly bytes: number;
}

/**
 * Writes the build context docker gets: only what the graph reads from the default context —
 * the paths its copies and bind mounts select, after the context's include/exclude filter, as
 * the native engine sees them (modes, symlinks, hard links and mtimes kept) — plus the
 * exporter's inline files. Docker then transfers and hashes no more than the native engine reads.
 */
export async function writeBuildContext(
  graph: LayerGraph,
  dest: string,
  opts: { readonly moduleDir: string; readonly contextDir?: string | undefined; readonly contextFiles: readonly ContextFile[] },
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
    const { snapshotContext } = await import("@strata/build");
    const snapshot = snapshotContext(dir, { ...(s.include ? { include: [...s.include] } : {}), ...(s.exclude ? { exclude: [...s.exclude] } : {}), ignoreFile: false });
    const keep = await selectPaths(snapshot, [...use.patterns]);
    const copied = copyEntries(snapshot, keep, dest);
    // The context root too: copying `.` gives the destination directory the root's mode.
    const root = statSync(snapshot.root);
    chmodSync(dest, root.mode & 0o7777);
    utimesSync(dest, root.atime, root.mtime);
    files += copied.files;
    bytes += copied.bytes;
  }
  for (const f of opts.contextFiles) {
    const path = join(dest, f.path);
    mkdirSync(posix.dirname(path), { recursive: true });
    writeFileSync(path, f.data);
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
    if (input?.kind !== "SourceOp" || input.source.type !== "local") return;
    const u = uses.get(input.source.name) ?? { op: input, patterns: new Set<string>() };
    uses.set(input.source.name, u);
    for (const p of patterns) u.patterns.add(p);
  };
  for (const op of graph.nodes.values()) {
    if (op.kind === "FileOp") {
      for (const a of op.actions) if (a.action === "copy") use(op.inputs[a.from], a.src);
    } else if (op.kind === "ExecOp") {
      for (const m of op.mounts) if ("input" in m && m.input !== undefined) use(op.inputs[m.input], ["source" in m && m.source !== undefined ? m.source : "."]);
    }
  }
  return uses;
}

/**
 * The context paths the patterns select, with their subtrees, the directories above them, and
 * the targets of symlinks on the way (COPY follows a symlink named by a source, and any symlinked
 * directory in a source path). A pattern that reads a build arg selects everything.
 */
async function selectPaths(snapshot: ContextSnapshot, patterns: readonly string[]): Promise<Set<string>> {
  const { cleanPath, containsWildcards, goMatch } = await import("@strata/build");
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

/** Copies the kept entries with their modes, symlinks, hard links and mtimes. */
function copyEntries(snapshot: ContextSnapshot, keep: ReadonlySet<string>, dest: string): GeneratedContext {
  let files = 0;
  let bytes = 0;
  const links = new Map<string, string>();
  const dirs: ContextEntry[] = [];
  for (const e of snapshot.entries) {
    if (!keep.has(e.path)) continue;
    const to = join(dest, e.path);
    const mtime = e.mtimeMs / 1000;
    if (e.type === "directory") {
      mkdirSync(to, { recursive: true });
      dirs.push(e);
    } else if (e.type === "symlink") {
      symlinkSync(e.linkname!, to);
      lutimesSync(to, mtime, mtime);
    } else {
      const key = `${e.dev}:${e.ino}`;
      const first = e.nlink > 1 ? links.get(key) : undefined;
      if (first !== undefined) linkSync(first, to);
      else {
        copyFileSync(snapshot.absolute(e.path), to);
        chmodSync(to, e.mode);
        utimesSync(to, mtime, mtime);
        if (e.nlink > 1) links.set(key, to);
        bytes += e.size;
      }
      files++;
    }
  }
  // Directories last, deepest first: writing into them would change their mtimes.
  for (const d of dirs.reverse()) {
    const to = join(dest, d.path);
    chmodSync(to, d.mode);
    utimesSync(to, d.mtimeMs / 1000, d.mtimeMs / 1000);
  }
  return { files, bytes };
}
