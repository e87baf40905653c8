import { cpus } from "node:os";
import {
  describeOp,
  opDigest,
  resolveLocation,
  StrataError,
  visitOp,
  type Digest,
  type ErrorCode,
  type EvalContext,
  type ImageConfigFile,
  type Op,
} from "@strata/graph";
import { ChainView } from "../layers/chain-view.ts";
import { LayerStore } from "../layers/layer-store.ts";
import { clock } from "../progress/events.ts";
import type { Store } from "../store/store.ts";
import type { Executor } from "../executor/index.ts";
import { evalContext } from "./expand.ts";
import { Limiter } from "./limiter.ts";
import type { SolveOptions } from "./options.ts";
import type { CacheRecord, ContextResult, OpResult } from "./results.ts";
import type { BaseImage, FsState, LayerRef } from "./types.ts";
import { solveSource } from "./solve-source.ts";
import { solveFile } from "./solve-file.ts";
import { ExplainRecorder } from "../explain/recorder.ts";

/** What the op solvers share. */
export interface SolverContext {
  readonly opts: SolveOptions;
  readonly store: Store;
  readonly layers: LayerStore;
  readonly evalCtx: EvalContext;
  readonly now: () => number;
  readonly runs: Limiter;
  readonly signal: AbortSignal;
  readonly explain: ExplainRecorder | undefined;
  result(op: Op): Promise<OpResult>;
  fs(op: Op, what: string): Promise<FsState>;
  readonly substitutes: Map<Digest, OpResult>;
  view(state: FsState): Promise<ChainView>;
  contexts: Map<string, Promise<ContextResult>>;
  executor(): Promise<Executor>;
  /**
   * The cache wrapper every layer-producing op goes through: a hit (record present, blobs
   * present) skips `compute`; a miss runs it, stores the record, and reports timings.
   */
  cached(op: Op, key: Digest, base: BaseImage | undefined, input: FsState | undefined, compute: () => Promise<{ layers: readonly LayerRef[]; added: boolean; base?: CacheRecord["base"] }>): Promise<FsState>;
  /** Ops whose result added no layer (their history entries are marked empty). */
  readonly emptyOps: Set<Op>;
  stats: { cached: number; built: number };
}

/**
 * The native engine's solver: walks the graph from the target's root, each op once
 * (memoized), independent branches concurrently (RUN steps up to `parallelism` at once). Each
 * op's cache key is derived from its digest, its inputs' keys and what it reads; a hit costs a
 * JSON read. The first failure aborts every step still running.
 */
export class Solver implements SolverContext {
  readonly layers: LayerStore;
  readonly evalCtx: EvalContext;
  readonly now = clock();
  readonly runs: Limiter;
  readonly contexts = new Map<string, Promise<ContextResult>>();
  readonly emptyOps = new Set<Op>();
  readonly explain: ExplainRecorder | undefined;
  stats = { cached: 0, built: 0 };
  private readonly memo = new Map<Op, Promise<OpResult>>();
  /** Results given for ops by digest (the ONBUILD placeholder base). */
  readonly substitutes = new Map<Digest, OpResult>();
  private readonly views = new Map<Digest, Promise<ChainView>>();
  private readonly abort = new AbortController();
  private executorP: Promise<Executor> | undefined;

  constructor(
    readonly store: Store,
    readonly opts: SolveOptions,
    /**
     * With a shared cache, the build solves twice (see cache-share/plan.ts): a probe pass
     * (`hits` set) only finds which steps are cached and runs nothing but image sources;
     * the real pass then skips (`skip`) the misses whose every consumer is a hit.
     */
    readonly plan: { readonly hits?: Set<Op>; readonly seen?: Set<Op>; readonly built?: Set<Op>; readonly skip?: ReadonlySet<Op>; readonly prebuilt?: ReadonlySet<Op> } = {},
  ) {
    this.layers = new LayerStore(store, opts.sourceDateEpoch);
    const remote = opts.cacheShare?.remote;
    if (remote) this.layers.fetchMissing = (diffId) => remote.fetchLayer(diffId);
    this.evalCtx = evalContext(opts);
    this.runs = new Limiter(Math.max(1, opts.parallelism || cpus().length));
    this.explain = opts.explain ? new ExplainRecorder(store, opts.explain.target) : undefined;
    if (opts.signal.aborted) this.abort.abort(opts.signal.reason);
    else opts.signal.addEventListener("abort", () => this.abort.abort(opts.signal.reason), { once: true });
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  result(op: Op): Promise<OpResult> {
    const sub = this.substitutes.size ? this.substitutes.get(opDigest(op)) : undefined;
    if (sub) return Promise.resolve(sub);
    let p = this.memo.get(op);
    if (!p) {
      p = this.compute(op).catch((e: unknown) => {
        const err = asBuildError(e, op);
        // The first failure stops everything else that is still running.
        if (!this.abort.signal.aborted) this.abort.abort(err);
        throw err;
      });
      this.memo.set(op, p);
    }
    return p;
  }

  private compute(op: Op): Promise<OpResult> {
    if (this.abort.signal.aborted) return Promise.reject(abortError(this.abort.signal.reason));
    // Start every input now, so independent branches (stages) build at the same time; the
    // op's own solver awaits them in whatever order it needs.
    for (const input of op.inputs) this.result(input).catch(() => {});
    return visitOp<Promise<OpResult>>(op, {
      SourceOp: (o) => solveSource(this, o),
      FileOp: (o) => solveFile(this, o),
      // RUN machinery (executors, snapshots, mounts) loads only for graphs that have RUN steps.
      ExecOp: (o) => import("./solve-exec.ts").then((m) => m.solveExec(this, o)),
      MergeOp: async (o) => {
        const inputs = await Promise.all(o.inputs.map((i) => this.fs(i, "a merge input")));
        const { cacheKey } = await import("./cache-key.ts");
        const key = cacheKey("merge", { op: opDigest(o), inputs: inputs.map((i) => i.key) });
        if (inputs.some(isUnneeded)) return unneeded(key, inputs[0]!.base);
        return { kind: "fs", key, layers: inputs.flatMap((i) => i.layers), base: inputs[0]!.base } satisfies FsState;
      },
      // buildImage resolves every stage chosen by a build arg before solving (resolveSelects).
      SelectOp: (o) => Promise.reject(new StrataError("STRATA_BUILD_INTERNAL", `${describeOp(o)} reached the solver unresolved`, { locations: [resolveLocation(o.meta)] })),
    });
  }

  async fs(op: Op, what: string): Promise<FsState> {
    const r = await this.result(op);
    if (r.kind !== "fs") {
      throw new StrataError("STRATA_BUILD_INTERNAL", `${what} is a ${r.kind}, not a filesystem`, { locations: [resolveLocation(op.meta)] });
    }
    return r;
  }

  view(state: FsState): Promise<ChainView> {
    let p = this.views.get(state.key);
    if (!p) {
      p = ChainView.open(this.layers, state.layers);
      this.views.set(state.key, p);
    }
    return p;
  }

  executor(): Promise<Executor> {
    this.executorP ??= import("../executor/index.ts").then((m) => m.selectExecutor({ stateDir: this.store.path("run"), executor: this.opts.executor === "auto" ? "auto" : this.opts.executor }));
    return this.executorP;
  }

  async cached(
    op: Op,
    key: Digest,
    base: BaseImage | undefined,
    input: FsState | undefined,
    compute: () => Promise<{ layers: readonly LayerRef[]; added: boolean; base?: CacheRecord["base"] }>,
  ): Promise<FsState> {
    const name = describeOp(op);
    const id = opDigest(op);
    this.plan.seen?.add(op);
    const noCache = this.opts.noCache || this.opts.noCacheOps?.has(id) === true;
    if (!noCache) {
      const rec = this.store.getCache<CacheRecord>(key);
      if (rec && (await allPresent(this.layers, rec.layers))) {
        // An image the probe pass pulled was built by this build (its progress is shown already).
        if (this.plan.prebuilt?.has(op)) this.stats.built++;
        else {
          this.stats.cached++;
          const at = resolveLocation(op.meta);
          this.opts.progress({ type: "step-cached", at: this.now(), id, name, ...(at ? { location: at } : {}) });
        }
        if (rec.added === false) this.emptyOps.add(op);
        this.explain?.hit(op, key);
        this.opts.cacheShare?.collect?.record(op, key, rec);
        this.plan.hits?.add(op);
        return { kind: "fs", key, layers: rec.layers, base: base ?? (rec.base ? await this.loadBase(rec.base) : undefined) };
      }
      const remote = this.opts.cacheShare?.remote;
      // A shared cache's record: only the key manifest is read now; its layers are fetched
      // (and verified) when a step reads them or the image needs them (LayerStore.ensure).
      const hit = remote ? await remote.lookup(key) : undefined;
      if (hit && (await allAvailable(this.layers, hit.record.layers, remote!))) {
        const rec = hit.record;
        this.plan.hits?.add(op);
        if (!this.plan.hits) this.store.putCache(key, rec);
        this.stats.cached++;
        if (rec.added === false) this.emptyOps.add(op);
        const at = resolveLocation(op.meta);
        this.opts.progress({ type: "step-cached", at: this.now(), id, name, ...(at ? { location: at } : {}) });
        this.explain?.hit(op, key);
        if (this.opts.explain) this.opts.progress({ type: "explain", at: this.now(), id, name, reasons: [`from the shared cache ${hit.source}`] });
        this.opts.cacheShare?.collect?.record(op, key, rec);
        return { kind: "fs", key, layers: rec.layers, base: base ?? (rec.base ? await this.loadBase(rec.base) : undefined) };
      }
      // The probe runs nothing but image sources (their config is part of later keys); the
      // real pass skips a miss nothing needs the content of.
      if ((this.plan.hits && input !== undefined) || this.plan.skip?.has(op)) {
        if (this.plan.skip && this.opts.explain) this.opts.progress({ type: "explain", at: this.now(), id, name, reasons: ["not run: every step that uses it is cached"] });
        return unneeded(key, base ?? input?.base);
      }
    }
    const started = this.now();
    const loc = resolveLocation(op.meta);
    this.opts.progress({ type: "step-start", at: started, id, name, ...(loc ? { location: loc } : {}) });
    const reasons = this.explain?.miss(op, key, noCache);
    if (reasons) this.opts.progress({ type: "explain", at: this.now(), id, name, reasons });
    try {
      const out = await compute();
      const rec: CacheRecord = { layers: out.layers, added: out.added, ...(out.base ? { base: out.base } : {}) };
      this.store.putCache(key, rec);
      this.plan.built?.add(op);
      this.opts.cacheShare?.collect?.record(op, key, rec);
      if (!out.added) this.emptyOps.add(op);
      this.stats.built++;
      const top = out.added ? out.layers[out.layers.length - 1] : undefined;
      this.opts.progress({ type: "step-done", at: this.now(), id, name, cached: false, ms: this.now() - started, ...(top ? { bytes: top.size } : {}) });
      return { kind: "fs", key, layers: out.layers, base: base ?? (out.base ? await this.loadBase(out.base) : input?.base) };
    } catch (e) {
      // A shared cache's bad blob is a warning already, and the build solves again without it.
      if (!(this.abort.signal.aborted && !(e instanceof StrataError)) && !(e instanceof StrataError && e.code === "STRATA_CACHE_BLOB_INVALID")) {
        const code = (e as { code?: unknown }).code;
        this.opts.progress({ type: "step-error", at: this.now(), id, name, message: e instanceof Error ? e.message : String(e), ...(typeof code === "string" && code.startsWith("STRATA_") ? { code } : {}), ...(loc ? { location: loc } : {}) });
      }
      throw e;
    }
  }

  async loadBase(b: NonNullable<CacheRecord["base"]>): Promise<BaseImage> {
    const { readFileSync } = await import("node:fs");
    const bytes = readFileSync(this.store.blobs.pathOf(b.configDigest));
    const configFile = JSON.parse(bytes.toString("utf8")) as ImageConfigFile;
    return { ...(b.manifestDigest ? { manifestDigest: b.manifestDigest } : {}), configFile, config: configFile.config ?? {} };
  }
}

const unneededStates = new WeakSet<FsState>();

/**
 * The result of a step that was not run because nothing reads its content (its consumers are
 * all cache hits): its key and base config are real, its layers do not exist. Reading them is
 * a solver bug, reported as one rather than building an image from nothing.
 */
function unneeded(key: Digest, base: BaseImage | undefined): FsState {
  const state = Object.defineProperty({ kind: "fs" as const, key, base }, "layers", {
    enumerable: true,
    get(): never {
      throw new StrataError("STRATA_BUILD_INTERNAL", "the layers of a step skipped as unneeded were read", { hint: "this is a bug in strata; build without --cache-from to work around it" });
    },
  }) as FsState;
  unneededStates.add(state);
  return state;
}

function isUnneeded(s: FsState): boolean {
  return unneededStates.has(s);
}

/** Every layer is in the store, or can be fetched from the shared cache that named it. */
async function allAvailable(layers: LayerStore, refs: readonly LayerRef[], remote: NonNullable<NonNullable<SolveOptions["cacheShare"]>["remote"]>): Promise<boolean> {
  for (const l of refs) if (!remote.canFetch(l.diffId) && !(await layers.has(l))) return false;
  return true;
}

async function allPresent(layers: LayerStore, refs: readonly LayerRef[]): Promise<boolean> {
  for (const l of refs) if (!(await layers.has(l))) return false;
  return true;
}

export function abortError(reason: unknown): StrataError {
  if (reason instanceof StrataError) return reason;
  return new StrataError("STRATA_BUILD_ABORTED", "the build was stopped", { cause: reason });
}

const SYSTEM_ERRORS: Record<string, { code: ErrorCode; what: string; hint: string }> = {
  ENOSPC: { code: "STRATA_NO_SPACE", what: "no space left on the device", hint: "free some space, run `strata cache prune`, or set STRATA_HOME to a bigger disk" },
  EDQUOT: { code: "STRATA_NO_SPACE", what: "disk quota exceeded", hint: "free some space, run `strata cache prune`, or set STRATA_HOME to a bigger disk" },
  EACCES: { code: "STRATA_PERMISSION_DENIED", what: "permission denied", hint: "check the file's permissions (and STRATA_HOME's)" },
  EPERM: { code: "STRATA_PERMISSION_DENIED", what: "operation not permitted", hint: "RUN steps need root (or the runc executor); check permissions" },
  EIO: { code: "STRATA_IO_ERROR", what: "an I/O error", hint: "the disk or file system reported an error" },
  EROFS: { code: "STRATA_IO_ERROR", what: "a read-only file system", hint: "set STRATA_HOME to a writable directory" },
};

/**
 * Every failure leaves the solver as a coded error at the op's source position: a StrataError
 * gets the position if it has none; a system error (a full disk, a permission) becomes a coded
 * one with a hint instead of an "internal error".
 */
function asBuildError(e: unknown, op: Op): unknown {
  const loc = resolveLocation(op.meta);
  if (e instanceof StrataError) return e.locations.length || !loc ? e : e.withLocation(loc);
  const sys = e instanceof Error ? SYSTEM_ERRORS[(e as NodeJS.ErrnoException).code ?? ""] : undefined;
  if (sys) {
    const path = (e as NodeJS.ErrnoException).path;
    return new StrataError(sys.code, `${describeOp(op)}: ${sys.what}${path ? ` (${path})` : ""}`, { locations: [loc], hint: sys.hint, cause: e });
  }
  return e;
}
