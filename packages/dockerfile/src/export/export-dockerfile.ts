import {
  imageDigest,
  resolveLocation,
  StrataError,
  type ImageDefinition,
  type LayerGraph,
  type Op,
  type SourceOp,
} from "@strata/graph";
import { emitStep, type EmitContext } from "./emit-steps.ts";
import { planStages, stageOf, type StagePlan } from "./stages.ts";
import { syntaxFeatures, type DockerfileSyntax } from "./syntax.ts";
import { word } from "./words.ts";

export interface ExportOptions {
  /** Dockerfile syntax the reader understands (default `latest`). */
  readonly syntax?: DockerfileSyntax;
  /** The escape character (default `\`); `` ` `` adds an `# escape=` directive. */
  readonly escapeToken?: "\\" | "`";
  /** A name for the target stage (e.g. the export name); other stages are named from their images. */
  readonly targetName?: string;
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
  /** The name of each stage, the target's last (undefined when unnamed). */
  readonly stages: readonly (string | undefined)[];
}

/**
 * Writes a graph as a Dockerfile that builds the same image: stages for every image it copies
 * or mounts from, global ARGs for what FROM lines read, exec form where the graph holds argv,
 * heredocs for multi-line scripts. Anything Dockerfiles cannot express is a coded error naming
 * the call site, never a silently different image.
 */
export function exportDockerfile(graph: LayerGraph, opts: ExportOptions = {}): ExportResult {
  const esc = opts.escapeToken ?? "\\";
  const features = syntaxFeatures(opts.syntax ?? "latest");
  const plans = planStages(graph, { targetName: opts.targetName });
  const contexts = new Map<string, { path: string; include?: readonly string[] | undefined; exclude?: readonly string[] | undefined }>();

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
      if (s.type === "scratch") return "scratch";
    }
    throw new StrataError("STRATA_EXPORT_UNSUPPORTED", `${what} reads a filesystem that is not a stage, an image or a context`, {
      locations: [resolveLocation(op.meta)],
      hint: "copy from an Image value (image.path(…)), an image reference or context()",
    });
  };

  const ctx: EmitContext = { esc, features, nameInput, useContext };
  const lines: string[] = [];
  if (esc === "`") lines.push("# escape=`", "");
  const globals = globalArgs(plans, esc);
  if (globals.length) lines.push(...globals, "");
  for (const plan of plans) {
    lines.push(fromLine(plan, esc));
    for (const step of plan.steps) lines.push(emitStep(step, ctx));
    lines.push("");
  }
  const dockerfile = `${lines.join("\n").trimEnd()}\n`;
  const dockerignore = ignoreFile(contexts.get("context"));
  return {
    dockerfile,
    ...(dockerignore !== undefined ? { dockerignore } : {}),
    contexts: Object.fromEntries([...contexts].filter(([name]) => name !== "context").map(([name, c]) => [name, c.path])),
    stages: plans.map((p) => p.name),
  };
}

function fromLine(plan: StagePlan, esc: string): string {
  const as = plan.name ? ` AS ${plan.name}` : "";
  if ("stage" in plan.base) return `FROM ${plan.base.stage.name}${as}`;
  const s = plan.base.source.source;
  if (s.type === "scratch") return `FROM scratch${as}`;
  if (s.type !== "image") throw new StrataError("STRATA_EXPORT_INTERNAL", "a stage starts from a non-image source");
  if (s.transport) {
    throw new StrataError("STRATA_EXPORT_UNSUPPORTED", `${s.transport}(…) images have no Dockerfile FROM`, {
      locations: [resolveLocation(plan.base.source.meta)],
      hint: "load the image into the daemon or a registry and use its reference, or map it at build time with --image",
    });
  }
  const platform = s.platform !== undefined ? `--platform=${word(s.platform, esc, "FROM --platform")} ` : "";
  return `FROM ${platform}${word(s.ref, esc, "FROM")}${as}`;
}

/** Global ARGs: every arg a FROM line (or its platform) reads, once, with one default. */
function globalArgs(plans: readonly StagePlan[], esc: string): string[] {
  const seen = new Map<string, { entry: { readonly arg: string; readonly default?: string }; source: SourceOp }>();
  for (const p of plans) {
    if (!("source" in p.base) || p.base.source.source.type !== "image") continue;
    for (const entry of p.base.source.source.scope ?? []) {
      if (!("arg" in entry)) continue;
      const e = entry as { readonly arg: string; readonly default?: string };
      const prev = seen.get(e.arg);
      if (prev && prev.entry.default !== e.default) {
        throw new StrataError("STRATA_EXPORT_UNSUPPORTED", `global build arg ${e.arg} has two defaults (${JSON.stringify(prev.entry.default)} and ${JSON.stringify(e.default)})`, {
          locations: [resolveLocation(prev.source.meta), resolveLocation(p.base.source.meta)],
          hint: "declare each global arg once",
        });
      }
      if (!prev) seen.set(e.arg, { entry: e, source: p.base.source });
    }
  }
  return [...seen.values()].map(({ entry }) => (entry.default === undefined ? `ARG ${entry.arg}` : `ARG ${entry.arg}=${word(entry.default, esc, `ARG ${entry.arg}`)}`));
}

/** `.dockerignore` lines for a context filter: excludes as given; includes as `*` then `!pattern`. */
function ignoreFile(c: { include?: readonly string[] | undefined; exclude?: readonly string[] | undefined } | undefined): string | undefined {
  if (!c || (!c.include?.length && !c.exclude?.length)) return undefined;
  const lines: string[] = [];
  if (c.include?.length) lines.push("*", ...c.include.map((p) => `!${p}`));
  if (c.exclude?.length) lines.push(...c.exclude);
  return `${lines.join("\n")}\n`;
}

export function isTargetOf(def: ImageDefinition, graph: LayerGraph): boolean {
  return imageDigest(def) === graph.digest;
}
