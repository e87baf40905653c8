import { canonicalJson, encodeOp, resolveLocation, sha256Digest, StrataError, type Digest, type FileAction, type FileOp } from "@strata/graph";
import type { LayerEntry } from "@strata/oci";
import type { BaseFs } from "../copy/base-fs.ts";
import type { resolveChown as ResolveChown } from "../copy/chown.ts";
import { cacheKey } from "./cache-key.ts";
import { resolvePath, scopeState } from "./expand.ts";
import type { SolverContext } from "./solver.ts";
import { copySource } from "./source-trees.ts";
import type { ExplainInfo } from "../explain/recorder.ts";
import type { FsState } from "./types.ts";

/**
 * A file op (COPY/ADD, WORKDIR's mkdir, an inline file): plans the entries against the
 * destination filesystem's view and writes them as one layer. Nothing is extracted: the
 * destination is read from the layers' tables of contents, context files are streamed
 * straight into the tar.
 */
export async function solveFile(ctx: SolverContext, op: FileOp): Promise<FsState> {
  const loc = resolveLocation(op.meta);
  const input = await ctx.fs(op.inputs[0]!, "a file operation's base");
  const state = scopeState(ctx.evalCtx, input.base?.config, op.scope);
  const cwd = state.cwd;
  const x = (t: string | undefined) => (t === undefined ? undefined : state.expand(t));
  const plans: Array<{ key: unknown; run: (base: BaseFs) => Promise<LayerEntry[]> }> = [];
  for (const a of op.actions) plans.push(await planAction(ctx, op, a, cwd, x));
  const key = cacheKey("file", { op: fileOpShape(op), base: input.key, cwd, actions: plans.map((p) => p.key) as never });
  if (ctx.explain) ctx.explain.note(op, await explainInfo(ctx, op, input.key, cwd, x));
  return ctx.cached(op, key, input.base, input, async () => {
    const base = (await ctx.view(input)).asBase();
    const entries: LayerEntry[] = [];
    try {
      for (const p of plans) entries.push(...(await p.run(base)));
    } catch (e) {
      throw e instanceof StrataError && !e.locations.length ? e.withLocation(loc) : e;
    }
    const layer = await ctx.layers.write(entries);
    return { layers: layer ? [...input.layers, layer] : input.layers, added: layer !== undefined };
  });
}

type Expand = (t: string | undefined) => string | undefined;

/**
 * The op's identity for its cache key, without its inputs' digests: the key holds the base's
 * cache key and, for every copy, its source's (for a build context, the digest of exactly
 * the files selected), which say all the inputs contribute. An input's op digest would add
 * how it was spelled — a context's `include`/`exclude` list, or the same for an earlier step
 * — so a changed include list that leaves the files read alone would miss the cache.
 */
function fileOpShape(op: FileOp): Digest {
  return sha256Digest(canonicalJson({ ...encodeOp(op), inputs: op.inputs.length }));
}

async function planAction(ctx: SolverContext, op: FileOp, a: FileAction, cwd: string, x: Expand): Promise<{ key: unknown; run: (base: BaseFs) => Promise<LayerEntry[]> }> {
  switch (a.action) {
    case "copy": {
      const src = a.src.map((s) => x(s)!);
      const exclude = (a.exclude ?? []).map((e) => x(e)!);
      const input = await ctx.result(op.inputs[a.from]!);
      const source = await copySource(ctx, input, { src, parents: a.parents === true, exclude });
      const dest = x(a.dest)!;
      const chown = x(a.chown);
      return {
        // A context's selection digest already reflects the excludes (it is taken after them).
        key: { copy: source.key, src: source.src, dest, chown, chmod: a.chmod, exclude: input.kind === "context" ? [] : exclude, parents: a.parents, link: a.link, add: a.add, unpack: a.unpack },
        // The planner loads only when a copy actually runs (a cached build never needs it).
        run: async (base) =>
          (await import("../copy/plan-copy.ts")).planCopy({
            source: await source.tree(),
            src: source.src,
            dest,
            workdir: cwd,
            base,
            ...(chown !== undefined ? { chown } : {}),
            ...(a.chmod !== undefined ? { chmod: a.chmod } : {}),
            ...(a.parents ? { parents: true } : {}),
            ...(exclude.length ? { exclude } : {}),
            ...(a.link ? { link: true } : {}),
            // ADD of a downloaded file never unpacks it (Docker only unpacks local archives).
            ...(a.add && input.kind !== "download" ? { add: true } : {}),
            ...(a.unpack !== undefined ? { unpack: a.unpack } : {}),
            scratchDir: ctx.store.path("tmp"),
          }),
      };
    }
    case "mkdir": {
      const path = resolvePath(cwd, x(a.path)!);
      const chown = x(a.chown);
      return { key: { mkdir: path, mode: a.mode, chown }, run: (base) => mkdirEntries(base, path, a.mode ?? 0o755, chown) };
    }
    case "mkfile": {
      const path = resolvePath(cwd, x(a.path)!);
      const data = a.expand ? x(a.data)! : a.data;
      const chown = x(a.chown);
      return {
        key: { mkfile: path, data, mode: a.mode, chown },
        run: async (base) => {
          const owner = chown ? await (await chownModule()).resolveChown(chown, base) : { uid: 0, gid: 0 };
          const bytes = new TextEncoder().encode(data);
          return [{ type: "file", path: path.replace(/^\/+/, ""), mode: a.mode ?? 0o644, uid: owner.uid, gid: owner.gid, mtime: 0, size: bytes.length, content: { bytes } }];
        },
      };
    }
    case "rm": {
      const path = resolvePath(cwd, x(a.path)!).replace(/^\/+/, "");
      return { key: { rm: path }, run: async (base) => (base.lstat(path) || !a.allowNotFound ? [{ type: "whiteout", path }] : []) };
    }
    case "symlink": {
      const path = resolvePath(cwd, x(a.path)!).replace(/^\/+/, "");
      const target = x(a.target)!;
      return { key: { symlink: path, target }, run: async () => [{ type: "symlink", path, linkname: target, mode: 0o777, uid: 0, gid: 0, mtime: 0 }] };
    }
  }
}

/** `mkdir -p` (WORKDIR): entries for the missing directories, following symlinks in the base like BuildKit. */
async function mkdirEntries(base: BaseFs, path: string, mode: number, chown: string | undefined): Promise<LayerEntry[]> {
  const owner = chown ? await (await chownModule()).resolveChown(chown, base) : { uid: 0, gid: 0 };
  const { resolveInRoot } = await import("../copy/resolve-path.ts");
  const resolved = resolveInRoot((p) => base.lstat(p), path);
  const parts = resolved.split("/").filter(Boolean);
  const out: LayerEntry[] = [];
  for (let i = 1; i <= parts.length; i++) {
    const p = parts.slice(0, i).join("/");
    const node = base.lstat(p);
    if (node?.type === "directory") continue;
    if (node) throw new StrataError("STRATA_WORKDIR_NOT_DIR", `cannot create directory /${p}: a ${node.type} is in the way`);
    out.push({ type: "directory", path: p, mode, uid: owner.uid, gid: owner.gid, mtime: 0 });
  }
  return out;
}

async function explainInfo(ctx: SolverContext, op: FileOp, base: string, cwd: string, x: Expand): Promise<ExplainInfo> {
  const inputs: Record<string, string> = { base };
  const values: Record<string, unknown> = { cwd };
  let files: Record<string, string> | undefined;
  for (const [i, a] of op.actions.entries()) {
    if (a.action !== "copy") continue;
    const src = a.src.map((s) => x(s)!);
    values[`source ${i + 1}`] = src;
    values[`destination ${i + 1}`] = x(a.dest);
    const r = await ctx.result(op.inputs[a.from]!);
    if (r.kind === "context") files = { ...files, ...(await import("../explain/context-files.ts")).contextFiles(r.snapshot, src) };
    else if (r.kind !== "tree") inputs[`source ${i + 1}`] = r.key;
  }
  return { inputs, values, ...(files ? { files } : {}) };
}

function chownModule(): Promise<{ resolveChown: typeof ResolveChown }> {
  return import("../copy/chown.ts");
}
