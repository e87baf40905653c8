import { cpSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { resolveLocation, StrataError, type ExecOp, type Mount, type ScopeState } from "@strata/graph";
import type { ExecMount } from "../executor/index.ts";
import { contextSourceTree } from "../copy/source-tree.ts";
import { resolvePath } from "../solver/expand.ts";
import type { SolverContext } from "../solver/solver.ts";
import type { CacheMounts } from "./cache-mounts.ts";
import { secretMasks } from "./mask.ts";
import { resolveMountSource } from "./mount-source.ts";
import type { SecretDir } from "./secrets.ts";

interface MountTools {
  readonly cacheMounts: CacheMounts;
  readonly secrets: SecretDir;
  readonly work: string;
  secretValue(id: string): Uint8Array | undefined;
}

/** A mount resolved for one step: its cache-key part, and how to make it exist at run time. */
export interface MountPlan {
  readonly key: unknown;
  materialize(tools: MountTools): Promise<{ mounts: ExecMount[]; env: string[]; masks: string[]; cleanup?: () => Promise<void> | void } | undefined>;
}

/** Mount targets are relative to the working directory (an empty target is the working directory). */
function target(cwd: string, t: string): string {
  return resolvePath(cwd, t || ".").replace(/\/\.$/, "") || "/";
}

export async function prepareMounts(ctx: SolverContext, op: ExecOp, state: ScopeState, cwd: string): Promise<MountPlan[]> {
  const loc = resolveLocation(op.meta);
  const out: MountPlan[] = [];
  for (const m of op.mounts) out.push(await planMount(ctx, op, m, state, cwd, loc));
  return out;
}

async function planMount(ctx: SolverContext, op: ExecOp, m: Mount, state: ScopeState, cwd: string, loc: ReturnType<typeof resolveLocation>): Promise<MountPlan> {
  const x = (t: string) => state.expand(t);
  switch (m.type) {
    case "tmpfs": {
      const t = target(cwd, x(m.target));
      return { key: { tmpfs: t, size: m.size }, materialize: async () => ({ mounts: [{ type: "tmpfs", target: t, ...(m.size ? { size: m.size } : {}) }], env: [], masks: [] }) };
    }
    case "cache": {
      const t = target(cwd, x(m.target));
      const id = m.id !== undefined ? x(m.id) : t;
      const seed = m.input !== undefined ? await ctx.result(op.inputs[m.input]!) : undefined;
      const source = m.source !== undefined ? x(m.source) : undefined;
      return {
        key: { cache: t, id, readonly: m.readonly === true },
        materialize: async (tools) => {
          const got = await tools.cacheMounts.acquire(id, m.sharing ?? "shared", { uid: m.uid, gid: m.gid, mode: m.mode });
          // A cache seeded from a stage: filled once, when it is still empty.
          if (seed && seed.kind === "fs") {
            const { readdirSync } = await import("node:fs");
            if (readdirSync(got.dir).length === 0) {
              const merged = await mergedDir(ctx, seed.layers, tools.work);
              try {
                // The seed is resolved inside the stage (its links never lead to the host); links
                // below it are copied as links, which the step resolves in its own root.
                const from = resolveMountSource(merged.dir, source ?? "/", "cache mount", loc);
                cpSync(from.path, got.dir, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
              } catch (e) {
                got.release();
                throw e;
              } finally {
                await merged.cleanup();
              }
            }
          }
          return { mounts: [{ type: m.readonly ? "bind" : "cache", source: got.dir, target: t, ...(m.readonly ? { readonly: true } : {}) } as ExecMount], env: [], masks: [], cleanup: got.release };
        },
      };
    }
    case "secret": {
      const id = x(m.id);
      const t = m.target !== undefined ? target(cwd, x(m.target)) : m.env ? undefined : `/run/secrets/${id}`;
      // A shell name: the sandbox exports it from its script, never from a command line.
      if (m.env !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(m.env)) {
        throw new StrataError("STRATA_SECRET_ENV_NAME", `secret ${JSON.stringify(id)}: env=${JSON.stringify(m.env)} is not a variable name`, { locations: [loc], hint: "use letters, digits and _ (not starting with a digit), e.g. env=API_TOKEN" });
      }
      return {
        // The id and where it goes are part of the key, never the value.
        key: { secret: id, target: t, env: m.env },
        materialize: async (tools) => {
          const value = tools.secretValue(id);
          if (!value) {
            if (m.required) throw new StrataError("STRATA_SECRET_MISSING", `secret ${JSON.stringify(id)} is required but was not given`, { locations: [loc], hint: `pass it with --secret id=${id},src=FILE or --secret id=${id},env=VAR` });
            return undefined;
          }
          const mounts: ExecMount[] = t ? [{ type: "secret", source: tools.secrets.write(id, value, { uid: m.uid, gid: m.gid, mode: m.mode }), target: t }] : [];
          const text = Buffer.from(value).toString("utf8");
          return { mounts, env: m.env ? [`${m.env}=${text}`] : [], masks: secretMasks(text) };
        },
      };
    }
    case "ssh": {
      const id = m.id ?? "default";
      const t = m.target ?? "/run/buildkit/ssh_agent.0";
      return {
        key: { ssh: id, target: t },
        materialize: async () => {
          const sock = ctx.opts.ssh?.[id] ?? (id === "default" ? process.env.SSH_AUTH_SOCK : undefined);
          if (!sock || !existsSync(sock)) {
            if (m.required) throw new StrataError("STRATA_SSH_MISSING", `ssh agent ${JSON.stringify(id)} is required but none was given`, { locations: [loc], hint: "pass --ssh default (with SSH_AUTH_SOCK set) or --ssh ID=SOCKET" });
            return undefined;
          }
          return { mounts: [{ type: "bind", source: sock, target: t, readonly: true }], env: [`SSH_AUTH_SOCK=${t}`], masks: [] };
        },
      };
    }
    case "bind": {
      const t = target(cwd, x(m.target));
      const source = m.source !== undefined ? x(m.source) : ".";
      const input = m.input !== undefined ? await ctx.result(op.inputs[m.input]!) : undefined;
      if (!input) throw new StrataError("STRATA_BUILD_INTERNAL", "a bind mount without a source", { locations: [loc] });
      const rw = m.readwrite === true;
      if (input.kind === "context") {
        const tree = contextSourceTree(input.snapshot);
        const { selectionDigest } = await import("../copy/selection-digest.ts");
        const digest = await selectionDigest(tree, { src: [source] }).catch((e: unknown) => {
          // A source outside the context (through `..` or a link) does not exist in it.
          if (e instanceof StrataError && e.code === "STRATA_COPY_NO_MATCH") {
            throw new StrataError("STRATA_RUN_MOUNT_SOURCE", `bind mount source ${JSON.stringify(source)} does not exist in the build context`, {
              locations: [loc],
              hint: "the source is a path inside the context; symlinks in it are followed inside the context, never on the host",
            });
          }
          throw e;
        });
        const filtered = input.filtered;
        return {
          key: { bind: t, context: input.name, digest, rw },
          materialize: async (tools) => {
            // Symlinks in the context never lead outside it.
            const src = resolveMountSource(input.dir, source, "bind mount", loc);
            // Read-only and nothing filtered out: the directory itself. Otherwise a private copy
            // (writes must never reach the host, excluded files must not be visible).
            if (!rw && !filtered) return { mounts: [{ type: "bind", source: src.path, target: t, readonly: true }], env: [], masks: [] };
            const copy = join(tools.work, `bind-${Math.random().toString(36).slice(2, 8)}`);
            if (src.isDir) copyContext(input, src.rel, copy);
            else if (!filtered || input.snapshot.entries.some((e) => e.path === src.rel)) cpSync(src.path, copy, { preserveTimestamps: true });
            else throw new StrataError("STRATA_RUN_MOUNT_SOURCE", `bind mount source ${JSON.stringify(source)} is excluded from the context`, { locations: [loc], hint: "see the context's .dockerignore" });
            return { mounts: [{ type: "bind", source: copy, target: t, readonly: !rw }], env: [], masks: [] };
          },
        };
      }
      if (input.kind === "fs") {
        return {
          key: { bind: t, input: input.key, source, rw },
          materialize: async (tools) => {
            // The stage's own view, private to this step: the source resolves inside it (a link to
            // `/` in the stage is the stage's root, never the host's), and a rw mount writes only
            // to the view's throwaway upper directory.
            const merged = await mergedDir(ctx, input.layers, tools.work);
            let src: ReturnType<typeof resolveMountSource>;
            try {
              src = resolveMountSource(merged.dir, source, "bind mount", loc);
            } catch (e) {
              await merged.cleanup();
              throw e;
            }
            return { mounts: [{ type: "bind", source: src.path, target: t, readonly: !rw }], env: [], masks: [], cleanup: merged.cleanup };
          },
        };
      }
      const dir = input.kind === "download" ? dirname(input.file) : input.dir;
      return {
        key: { bind: t, input: input.key, source, rw },
        materialize: async (tools) => {
          const src = resolveMountSource(dir, source, "bind mount", loc);
          if (!rw) return { mounts: [{ type: "bind", source: src.path, target: t, readonly: true }], env: [], masks: [] };
          // The store's copy must never be written: a rw mount gets a private copy.
          const copy = join(tools.work, `bind-${Math.random().toString(36).slice(2, 8)}`);
          cpSync(src.path, copy, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
          return { mounts: [{ type: "bind", source: copy, target: t, readonly: false }], env: [], masks: [] };
        },
      };
    }
  }
}

/** A layer chain as one directory (an overlay with a throwaway upper), for bind and cache seeds. */
async function mergedDir(ctx: SolverContext, layers: readonly { diffId: import("@strata/graph").Digest }[], work: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dirs = await Promise.all(layers.map((l) => ctx.layers.snapshot(l.diffId)));
  const root = join(work, `view-${Math.random().toString(36).slice(2, 8)}`);
  if (!dirs.length) {
    mkdirSync(join(root, "empty"), { recursive: true });
    dirs.push(join(root, "empty"));
  }
  const { prepareRootfs } = await import("../snapshot/index.ts");
  const fs = await prepareRootfs({ lowerDirs: dirs, upperDir: join(root, "upper"), workDir: join(root, "work"), mergedDir: join(root, "merged") });
  return { dir: fs.mergedDir, cleanup: () => fs.unmount() };
}

/** Copies the context's kept entries under `source` into `to` (excluded files stay out). */
function copyContext(input: { readonly dir: string; readonly snapshot: { readonly entries: readonly { readonly path: string; readonly type: string }[] } }, source: string, to: string): void {
  const prefix = source === "." || source === "" ? "" : `${source.replace(/^\.\/|\/$/g, "")}/`;
  mkdirSync(to, { recursive: true });
  for (const e of input.snapshot.entries) {
    if (prefix && !e.path.startsWith(prefix)) continue;
    const rel = e.path.slice(prefix.length);
    const dst = join(to, rel);
    if (e.type === "directory") mkdirSync(dst, { recursive: true });
    else {
      mkdirSync(dirname(dst), { recursive: true });
      cpSync(join(input.dir, e.path), dst, { verbatimSymlinks: true, preserveTimestamps: true });
    }
  }
}
