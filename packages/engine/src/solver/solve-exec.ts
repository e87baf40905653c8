import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { canonicalJson, commandText, DEFAULT_SHELL, digestHex, encodeOp, opDigest, resolveLocation, sha256Digest, StrataError, type Digest, type ExecOp } from "@strata/graph";
import type { Rootfs } from "../snapshot/index.ts";
import type { ExecMount, ExecResult } from "../executor/index.ts";
import { CacheMounts } from "../run/cache-mounts.ts";
import { SecretDir, secretValue } from "../run/secrets.ts";
import { prepareMounts, type MountPlan } from "../run/mounts.ts";
import { masker } from "../run/mask.ts";
import { StepLog } from "../run/step-log.ts";
import { cacheKey } from "./cache-key.ts";
import { checkEntitlements } from "./entitlements.ts";
import { scopeState } from "./expand.ts";
import { PROXY_ARGS } from "./options.ts";
import { abortError, type SolverContext } from "./solver.ts";
import type { FsState } from "./types.ts";

const cacheMountsByStore = new WeakMap<object, CacheMounts>();

/**
 * The op's identity for its cache key with each input by what it resolved to rather than by
 * how it was spelled: the root filesystem is in the key as its own cache key, an image or
 * earlier step as its result's key, a build context by name (a bind mount's key holds the
 * digest of what it exposes). So a changed `include` list upstream that leaves the files
 * alone is a hit here too, not only at the COPY it changed.
 */
async function execOpShape(ctx: SolverContext, op: ExecOp): Promise<Digest> {
  const inputs: string[] = [];
  for (const [i, input] of op.inputs.entries()) {
    if (i === 0) {
      inputs.push("rootfs");
      continue;
    }
    const r = await ctx.result(input);
    inputs.push(r.kind === "context" ? `context:${r.name}` : r.key);
  }
  return sha256Digest(canonicalJson({ ...encodeOp(op), inputs }));
}

/**
 * RUN: the step's root filesystem is its input's layers stacked with overlayfs (each layer
 * extracted once into the store), the command runs in the sandbox, and the upper directory
 * becomes the new layer. Env, working directory, user and shell follow Docker's rules; build
 * args are in the environment but not in the image; secrets are in neither the key nor a layer.
 */
export async function solveExec(ctx: SolverContext, op: ExecOp): Promise<FsState> {
  const loc = resolveLocation(op.meta);
  const input = await ctx.fs(op.inputs[0]!, "a RUN step's root filesystem");
  const base = input.base?.config;
  const state = scopeState(ctx.evalCtx, base, op.scope);
  const env = state.processEnv();
  // Proxy args pass through without an ARG and stay out of the cache key (Docker's rule).
  const proxy = PROXY_ARGS.filter((k) => k in ctx.opts.buildArgs && !env.some((e) => e.startsWith(`${k}=`))).map((k) => `${k}=${ctx.opts.buildArgs[k]}`);
  const cwd = state.cwd;
  const user = op.user !== undefined ? state.expand(op.user) : base?.User || "";
  const shell = op.shell ?? base?.Shell ?? DEFAULT_SHELL;
  const argv = op.command.form === "exec" ? [...op.command.argv] : [...shell, op.command.script];
  checkEntitlements(op, ctx.opts.allow ?? [], loc);
  const mounts = await prepareMounts(ctx, op, state, cwd);
  const key = cacheKey("exec", {
    op: await execOpShape(ctx, op),
    input: input.key,
    env,
    cwd,
    user,
    argv,
    network: op.network ?? "default",
    mounts: mounts.map((m) => m.key) as never,
  });
  ctx.explain?.note(op, {
    inputs: { "root filesystem": input.key },
    values: { command: argv, environment: env, "working directory": cwd, user: user || "(image default)", mounts: mounts.map((m) => m.key) },
  });
  return ctx.cached(op, key, input.base, input, () => ctx.runs.run(() => execute(ctx, op, input, { env: [...env, ...proxy], cwd, user, argv, mounts })));
}

interface Resolved {
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
  readonly argv: readonly string[];
  readonly mounts: readonly MountPlan[];
}

async function execute(ctx: SolverContext, op: ExecOp, input: FsState, r: Resolved) {
  if (ctx.signal.aborted) throw abortError(ctx.signal.reason);
  const loc = resolveLocation(op.meta);
  const id = opDigest(op);
  const [{ prepareRootfs }, { resolveUser }] = await Promise.all([import("../snapshot/index.ts"), import("../executor/index.ts")]);
  const lowerDirs = await Promise.all(input.layers.map((l) => ctx.layers.snapshot(l.diffId)));
  const work = ctx.store.tmpDir(`run-${digestHex(id).slice(0, 12)}`);
  if (!lowerDirs.length) {
    const empty = join(work, "empty");
    mkdirSync(empty);
    lowerDirs.push(empty);
  }
  const cacheMounts = cacheMountsByStore.get(ctx.store) ?? new CacheMounts(ctx.store);
  cacheMountsByStore.set(ctx.store, cacheMounts);
  cacheMounts.share = ctx.opts.cacheShare && (await import("../cache-share/mount-share.ts")).mountShare(ctx.store, ctx.opts.cacheShare);
  const secrets = new SecretDir();
  const cleanups: Array<() => Promise<void> | void> = [];
  let rootfs: Rootfs | undefined;
  const masks: string[] = [];
  try {
    rootfs = await prepareRootfs({ lowerDirs, upperDir: join(work, "upper"), workDir: join(work, "work"), mergedDir: join(work, "merged") });
    const execMounts: ExecMount[] = [];
    const env = [...r.env];
    for (const m of r.mounts) {
      const got = await m.materialize({ cacheMounts, secrets, work, secretValue: (sid) => secretValue(sid, ctx.opts.secrets[sid]) });
      if (!got) continue;
      execMounts.push(...got.mounts);
      env.push(...got.env);
      masks.push(...got.masks);
      if (got.cleanup) cleanups.push(got.cleanup);
    }
    const owner = await resolveUser(rootfs.mergedDir, r.user || undefined);
    const executor = await ctx.executor();
    const mask = masker(masks);
    const log = new StepLog(ctx.store.path("logs", `${digestHex(id).slice(0, 32)}.log`), mask);
    const logFile = log.file;
    const onLine = (stream: "stdout" | "stderr") => (line: string) => {
      log.line(line);
      ctx.opts.progress({ type: "step-log", at: ctx.now(), id, stream, line: mask(line) });
    };
    let result: ExecResult;
    try {
      result = await executor.run(
        { rootfs: rootfs.mergedDir, argv: r.argv, env, cwd: r.cwd, user: owner, mounts: execMounts, network: op.network ?? "default", security: op.security ?? "sandbox" },
        { signal: ctx.signal, onStdout: onLine("stdout"), onStderr: onLine("stderr") },
      );
    } finally {
      log.close();
    }
    if (result.exitCode !== 0) {
      const tail = lastLines(logFile, 20).map(mask);
      throw new StrataError("STRATA_RUN_FAILED", `RUN ${commandText(op.command)} exited with status ${result.exitCode}${result.signal ? ` (${result.signal})` : ""}`, {
        locations: [loc],
        hint: `${tail.length ? `last lines of output:\n    ${tail.join("\n    ")}\n  ` : ""}full log: ${logFile}`,
      });
    }
    const entries = await rootfs.diff();
    const layer = await ctx.layers.write(entries);
    return { layers: layer ? [...input.layers, layer] : input.layers, added: layer !== undefined };
  } catch (e) {
    if (ctx.signal.aborted && !(e instanceof StrataError && e.code === "STRATA_RUN_FAILED")) throw abortError(ctx.signal.reason);
    throw e instanceof StrataError && !e.locations.length ? e.withLocation(loc) : e;
  } finally {
    await rootfs?.unmount().catch(() => {});
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
    secrets.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}

function lastLines(file: string, n: number): string[] {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-n);
  } catch {
    return [];
  }
}
