import {
  digestHex,
  isStrataError,
  resolveLocation,
  sha256Digest,
  StrataError,
  type LayerGraph,
  type Op,
  type SourceOp,
  type Step,
} from "@strata/graph";
import { parseDockerfile } from "../parser/parse.ts";
import { emitStep, type EmitContext } from "./emit-steps.ts";
import { planStages, selectPlatform, stageOf, type StagePlan } from "./stages.ts";
import { syntaxFeatures, type DockerfileSyntax } from "./syntax.ts";
import { word } from "./words.ts";

export interface ExportOptions {
  /** Dockerfile syntax the reader understands (default `latest`). */
  readonly syntax?: DockerfileSyntax;
  /** The escape character (default `\`); `` ` `` adds an `# escape=` directive. */
  readonly escapeToken?: "\\" | "`";
  /** A name for the target stage (e.g. the export name); other stages are named from their images. */
  readonly targetName?: string | undefined;
  /** Names for stages by image digest (e.g. a module's export names); else named from their images. */
  readonly stageNames?: ReadonlyMap<string, string>;
  /**
   * What the Dockerfile must preserve. `graph` (default): importing it gives the same graph (what
   * `strata dockerfile` checks). `image`: building it gives the same image — files and config —
   * so where the syntax lacks a feature, an exact equivalent may be written instead (exec form
   * for a multi-line script, a context file for an inline file, no `--link` on an empty base; see
   * `contextFiles`). Anything without an exact equivalent is still refused.
   */
  readonly fidelity?: "graph" | "image";
  /**
   * The name to write for an image of a local transport (`ociLayout(…)`, `dockerArchive(…)`),
   * e.g. the tag it was loaded into a daemon under; undefined refuses it as before.
   */
  readonly localImageName?: (source: SourceOp) => string | undefined;
  /**
   * The SHELL configured in a base image (`["/bin/sh", "-c"]` when it sets none), or undefined when
   * unknown. Image fidelity needs it to write a multi-line script in exec form.
   */
  readonly baseShell?: (source: SourceOp) => readonly string[] | undefined;
  /**
   * Stages to write besides the target's, in this order, keeping their names (normalising a
   * whole Dockerfile: every target stays a target). Each stage's `comments` go before its FROM.
   */
  readonly stages?: ReadonlyArray<{ readonly graph: LayerGraph; readonly name?: string | undefined; readonly comments?: readonly string[] }>;
  /** Comment lines (`# …`) to write before the instruction a step came from, by that instruction's source line. */
  readonly comments?: ReadonlyMap<number, readonly string[]>;
  /** Comment lines before the global ARG of a name, and after the last instruction. */
  readonly globalArgComments?: ReadonlyMap<string, readonly string[]>;
  readonly trailingComments?: readonly string[];
}

/** A file the build context must hold for the Dockerfile (image fidelity: inline content without heredocs). */
export interface ContextFile {
  /** Relative to the context root. */
  readonly path: string;
  readonly data: string;
  readonly mode: number;
}

export interface ExportResult {
  readonly dockerfile: string;
  /**
   * The `.dockerignore` the build context needs, when the graph's context has include or
   * exclude patterns (Dockerfiles have no per-COPY context filter; docker applies this file).
   */
  readonly dockerignore?: string;
  /** Named build contexts other than the default (`--build-context name=path`). */
  readonly contexts: Readonly<Record<string, string>>;
  /**
   * The default build context's directory when it is not the module's own (`context("app",
   * { exclude })`): build the Dockerfile with that directory as its context.
   */
  readonly contextPath?: string;
  /** Images the Dockerfile names that are `dockerDaemon(…)` images (`docker build` finds them in the daemon). */
  readonly daemonImages: readonly string[];
  /** The name of each stage, the target's last (undefined when unnamed). */
  readonly stages: readonly (string | undefined)[];
  /** Files to add to the default build context (only with `fidelity: "image"`; empty otherwise). */
  readonly contextFiles: readonly ContextFile[];
  /**
   * For each stage (as `stages`), the steps that BuildKit numbers in its progress (`[stage n/total]`):
   * n = 1 is the FROM, n = k + 1 the k-th RUN/COPY/ADD/WORKDIR. Lets an engine map a failing step back.
   */
  readonly numberedSteps: readonly (readonly Step[])[];
  /** For each stage, the image source its FROM names (undefined when it starts from another stage). */
  readonly stageSources: readonly (SourceOp | undefined)[];
  /** The 1-based Dockerfile line of each step's instruction. */
  readonly stepLines: readonly { readonly line: number; readonly step: Step }[];
}

/** The directory of the build context that holds inline content (image fidelity). */
export const INLINE_CONTEXT_DIR = ".strata-inline";

/**
 * Writes a graph as a Dockerfile that builds the same image: stages for every image it copies
 * or mounts from, global ARGs for what FROM lines read, exec form where the graph holds argv,
 * heredocs for multi-line scripts. Anything Dockerfiles cannot express is a coded error naming
 * the call site, never a silently different image.
 */
export function exportDockerfile(graph: LayerGraph, opts: ExportOptions = {}): ExportResult {
  const esc = opts.escapeToken ?? "\\";
  const features = syntaxFeatures(opts.syntax ?? "latest");
  const plans = planStages(graph, { targetName: opts.targetName, stageNames: opts.stageNames, also: opts.stages });
  const fromComments = new Map<string, readonly string[]>();
  for (const t of opts.stages ?? []) if (t.comments?.length) fromComments.set(t.name ?? t.graph.digest, t.comments);
  const contexts = new Map<string, { path: string; include?: readonly string[] | undefined; exclude?: readonly string[] | undefined }>();
  const daemonImages = new Set<string>();

  const useContext = (op: Op) => {
    if (op.kind !== "SourceOp" || op.source.type !== "local") return;
    const s = op.source;
    const path = s.path ?? ".";
    const prev = contexts.get(s.name);
    if (prev && (prev.path !== path || JSON.stringify(prev.include ?? []) !== JSON.stringify(s.include ?? []) || JSON.stringify(prev.exclude ?? []) !== JSON.stringify(s.exclude ?? []))) {
      throw new StrataError("STRATA_EXPORT_UNSUPPORTED", `the build context ${JSON.stringify(s.name)} is used with different paths or filters; a Dockerfile build has one of each`, {
        locations: [resolveLocation(op.meta)],
        hint: "use one context() value for every copy, or give the others their own name: context(path, { name })",
      });
    }
    contexts.set(s.name, { path, include: s.include, exclude: s.exclude });
  };

  const nameInput = (op: Op, index: number, what: string): string | undefined => {
    const input = op.inputs[index];
    if (!input) throw new StrataError("STRATA_EXPORT_INTERNAL", `${what} names a missing input`);
    const img = op.meta?.images?.[index];
    if (img) {
      const stage = stageOf(plans, img);
      if (!stage?.name) throw new StrataError("STRATA_EXPORT_INTERNAL", `${what} reads an image that has no stage`);
      return stage.name;
    }
    if (input.kind === "SourceOp") {
      const s = input.source;
      if (s.type === "local") return s.name === "context" ? undefined : s.name;
      if (s.type === "image" && !s.transport) return word(s.ref, esc, `${what} --from`);
      if (s.type === "image") {
        const local = opts.localImageName?.(input);
        if (local !== undefined) return local;
        if (s.transport === "docker-daemon") {
          daemonImages.add(s.ref);
          return s.ref;
        }
      }
      if (s.type === "scratch") return "scratch";
    }
    throw new StrataError("STRATA_EXPORT_UNSUPPORTED", `${what} reads a filesystem that is not a stage, an image or a context`, {
      locations: [resolveLocation(op.meta)],
      hint: "copy from an Image value (image.path(…)), an image reference or context()",
    });
  };

  const reconstitutes = (script: string) => reconstitutedRun(script, esc) === script;
  const fidelity = opts.fidelity ?? "graph";
  const contextFiles = new Map<string, ContextFile>();
  const addContextFile = (name: string, data: string, mode: number): string => {
    // Content-addressed, so the same file used twice is one file and the path is stable.
    const dir = `${INLINE_CONTEXT_DIR}/${digestHex(sha256Digest(`${mode.toString(8)}\u0000${name}\u0000${data}`)).slice(0, 16)}`;
    contextFiles.set(`${dir}/${name}`, { path: `${dir}/${name}`, data, mode });
    return dir;
  };
  let current: StagePlan | undefined;
  const baseShell = (): readonly string[] | undefined => {
    let p = current;
    while (p && "stage" in p.base) p = p.base.stage;
    if (!p || !("source" in p.base)) return undefined;
    const src = p.base.source;
    if (src.source.type === "scratch" || (src.source.type === "image" && !src.source.transport && src.source.ref === "scratch")) return DEFAULT_SHELL;
    return opts.baseShell?.(src);
  };
  const ctx: EmitContext = { esc, features, nameInput, useContext, reconstitutes, fidelity, addContextFile, baseShell };
  const lines: string[] = [];
  const stepLines: { line: number; step: Step }[] = [];
  if (esc === "`") lines.push("# escape=`", "");
  const globals = globalArgs(plans, esc);
  const usedGlobalComments = new Set<string>();
  for (const g of globals) {
    const name = /^ARG ([^=]*)/.exec(g)![1]!;
    usedGlobalComments.add(name);
    lines.push(...(opts.globalArgComments?.get(name) ?? []), g);
  }
  if (globals.length) lines.push("");
  // Comments of global args no FROM line reads (so not written) still stay, before the first stage.
  for (const [name, c] of opts.globalArgComments ?? []) if (!usedGlobalComments.has(name)) lines.push(...c);
  const commented = new Set<number>();
  const commentsOf = (step: Step): readonly string[] => {
    const line = opts.comments?.size ? resolveLocation(step.meta)?.line : undefined;
    if (line === undefined || commented.has(line)) return [];
    commented.add(line);
    return opts.comments!.get(line) ?? [];
  };
  for (const plan of plans) {
    current = plan;
    // A stage's comments, and those of an unnamed stage that is this one again (`FROM base` at the end).
    for (const key of [plan.name, plan.id]) {
      const before = key !== undefined ? fromComments.get(key) : undefined;
      if (before) lines.push(...before);
      if (key !== undefined) fromComments.delete(key);
    }
    lines.push(fromLine(plan, esc, opts.localImageName));
    for (const step of plan.steps) {
      try {
        lines.push(...commentsOf(step));
        const text = emitStep(step, ctx);
        stepLines.push({ line: lineCount(lines) + 1, step });
        lines.push(text);
      } catch (e) {
        // Errors from helpers (words, mounts) get the step's call site.
        throw isStrataError(e) && !e.locations.length ? e.withLocation(resolveLocation(step.meta)) : e;
      }
    }
    lines.push("");
  }
  if (opts.trailingComments?.length) lines.push(...opts.trailingComments);
  const dockerfile = `${lines.join("\n").trimEnd()}\n`;
  let dockerignore = ignoreFile(contexts.get("context"));
  const contextPath = contexts.get("context")?.path;
  // Inline content must reach the build even when the context is filtered.
  if (dockerignore !== undefined && contextFiles.size) dockerignore += `!${INLINE_CONTEXT_DIR}\n`;
  return {
    dockerfile,
    ...(dockerignore !== undefined ? { dockerignore } : {}),
    contexts: Object.fromEntries([...contexts].filter(([name]) => name !== "context").map(([name, c]) => [name, c.path])),
    ...(contextPath !== undefined && contextPath !== "." ? { contextPath } : {}),
    daemonImages: [...new Set([...daemonImages, ...plans.flatMap((p) => ("source" in p.base && p.base.source.source.type === "image" && p.base.source.source.transport === "docker-daemon" && !opts.localImageName ? [p.base.source.source.ref] : []))])],
    stages: plans.map((p) => p.name),
    contextFiles: [...contextFiles.values()],
    numberedSteps: plans.map((p) => p.steps.filter((s) => NUMBERED.has(s.instruction))),
    stageSources: plans.map((p) => ("source" in p.base ? p.base.source : undefined)),
    stepLines,
  };
}

function lineCount(lines: readonly string[]): number {
  let n = 0;
  for (const l of lines) n += l.split("\n").length;
  return n;
}

const DEFAULT_SHELL: readonly string[] = Object.freeze(["/bin/sh", "-c"]);

/** Instructions BuildKit's Dockerfile frontend counts in its `[stage n/total]` progress names. */
const NUMBERED = new Set(["RUN", "COPY", "ADD", "WORKDIR"]);

function fromLine(plan: StagePlan, esc: string, localImageName: ExportOptions["localImageName"]): string {
  const as = plan.name ? ` AS ${plan.name}` : "";
  if ("stage" in plan.base) return `FROM ${plan.base.stage.name}${as}`;
  // BuildKit expands the value and, when it names a stage, starts from that stage.
  if ("select" in plan.base) {
    const platform = selectPlatform(plan.base.select);
    return `FROM ${platform !== undefined ? `--platform=${word(platform, esc, "FROM --platform")} ` : ""}${word(plan.base.select.key, esc, "FROM")}${as}`;
  }
  const s = plan.base.source.source;
  if (s.type === "scratch") return `FROM scratch${as}`;
  if (s.type !== "image") throw new StrataError("STRATA_EXPORT_INTERNAL", "a stage starts from a non-image source");
  const local = s.transport ? localImageName?.(plan.base.source) : undefined;
  if (local !== undefined) return `FROM ${s.platform !== undefined ? `--platform=${word(s.platform, esc, "FROM --platform")} ` : ""}${local}${as}`;
  // `docker build` reads a FROM name from the daemon's images first: the same image.
  if (s.transport === "docker-daemon") return `FROM ${s.platform !== undefined ? `--platform=${word(s.platform, esc, "FROM --platform")} ` : ""}${word(s.ref, esc, "FROM")}${as}`;
  if (s.transport) {
    throw new StrataError("STRATA_EXPORT_UNSUPPORTED", `${s.transport}(…) images have no Dockerfile FROM`, {
      locations: [resolveLocation(plan.base.source.meta)],
      hint: "load the image into the daemon or a registry and use its reference, or map it at build time with --image",
    });
  }
  const platform = s.platform !== undefined ? `--platform=${word(s.platform, esc, "FROM --platform")} ` : "";
  return `FROM ${platform}${word(s.ref, esc, "FROM")}${as}`;
}

/**
 * Global ARGs: the declarations FROM lines read and those stages re-declare (`ARG X` with no
 * default). Each use saw an ordered subsequence of the original global list; they are merged
 * back into one order consistent with all of them (a later `ARG X=${X}-2` stays after `ARG X=1`).
 */
function globalArgs(plans: readonly StagePlan[], esc: string): string[] {
  const sequences: Array<Array<{ name: string; default: string | undefined }>> = [];
  for (const p of plans) {
    if ("source" in p.base && p.base.source.source.type === "image") {
      sequences.push((p.base.source.source.scope ?? []).flatMap((e) => ("arg" in e ? [{ name: e.arg, default: "default" in e ? e.default : undefined }] : [])));
    }
    if ("select" in p.base) {
      const op = p.base.select;
      const fb = op.fallback ? op.meta?.images?.[op.inputs.length - 1]?.rootfs : undefined;
      const scope = fb?.kind === "SourceOp" && fb.source.type === "image" ? (fb.source.scope ?? []) : (op.scope ?? []);
      sequences.push(scope.flatMap((e) => ("arg" in e ? [{ name: e.arg, default: "default" in e ? e.default : undefined }] : [])));
    }
    for (const step of p.steps) {
      const globals = (step.scope ?? []).flatMap((e) => ("globalArg" in e ? [{ name: e.globalArg, default: e.default }] : []));
      if (globals.length) sequences.push(globals);
    }
  }
  const merged = mergeSequences(sequences.filter((s) => s.length));
  if (!merged) {
    throw new StrataError("STRATA_EXPORT_UNSUPPORTED", "the stages read global build args in orders no single list of global ARGs gives", {
      hint: "declare each global arg once, before the images that use it",
    });
  }
  return merged.map((e) => (e.default === undefined ? `ARG ${e.name}` : `ARG ${e.name}=${word(e.default, esc, `ARG ${e.name}`)}`));
}

/** A shortest common supersequence by topological order (ties: first seen); undefined on a conflict. */
function mergeSequences<T extends { name: string; default: string | undefined }>(seqs: readonly T[][]): T[] | undefined {
  const key = (e: T, nth: number) => `${e.name}\u0000${e.default ?? "\u0001"}\u0000${nth}`;
  const nodes = new Map<string, T>();
  const order: string[] = [];
  const edges = new Map<string, Set<string>>();
  for (const seq of seqs) {
    const seen = new Map<string, number>();
    let prev: string | undefined;
    for (const e of seq) {
      const base = `${e.name}\u0000${e.default ?? "\u0001"}`;
      const nth = seen.get(base) ?? 0;
      seen.set(base, nth + 1);
      const k = key(e, nth);
      if (!nodes.has(k)) {
        nodes.set(k, e);
        order.push(k);
        edges.set(k, new Set());
      }
      if (prev !== undefined) edges.get(prev)!.add(k);
      prev = k;
    }
  }
  const indegree = new Map(order.map((k) => [k, 0]));
  for (const [, to] of edges) for (const k of to) indegree.set(k, indegree.get(k)! + 1);
  const out: T[] = [];
  const ready = order.filter((k) => indegree.get(k) === 0);
  while (ready.length) {
    ready.sort((a, b) => order.indexOf(a) - order.indexOf(b));
    const k = ready.shift()!;
    out.push(nodes.get(k)!);
    for (const to of edges.get(k)!) {
      indegree.set(to, indegree.get(to)! - 1);
      if (indegree.get(to) === 0) ready.push(to);
    }
  }
  if (out.length !== order.length) return undefined;
  // Two different defaults for one name in one order are a redeclaration (fine); the same
  // name twice with no order between them would be ambiguous, which the merge already refused.
  return out;
}

/** What BuildKit gives as the shell script of `RUN <text>` (heredoc bodies put back after the line). */
function reconstitutedRun(text: string, esc: string): string | undefined {
  const directive = esc === "`" ? "# escape=`\n" : "";
  const { ast, diagnostics } = parseDockerfile(`${directive}FROM scratch\nRUN ${text}\n`);
  if (diagnostics.some((d) => d.severity === "error")) return undefined;
  const run = ast.stages[0]?.instructions[0];
  if (run?.kind !== "RUN" || run.command.form !== "shell" || !run.heredocs.length) return undefined;
  let full = run.command.script;
  for (const h of run.heredocs) full += `\n${h.content}${h.name}`;
  return full;
}

/** `.dockerignore` lines for a context filter: excludes as given; includes as `*` then `!pattern`. */
function ignoreFile(c: { include?: readonly string[] | undefined; exclude?: readonly string[] | undefined } | undefined): string | undefined {
  if (!c || (!c.include?.length && !c.exclude?.length)) return undefined;
  const lines: string[] = [];
  if (c.include?.length) lines.push("*", ...c.include.map((p) => `!${p}`));
  if (c.exclude?.length) lines.push(...c.exclude);
  return `${lines.join("\n")}\n`;
}
