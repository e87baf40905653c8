import { isStrataError, StrataError, type Diagnostic } from "@strata/graph";
import { declareArg, dockerDaemon, from, scratch, stageFor, type Image } from "@strata/core";
import { atLocation, named } from "@strata/core/internal";
import { stageCandidates } from "./stage-candidates.ts";
import { parseDockerfile } from "../parser/parse.ts";
import { toGraphDiagnostic, toLocation } from "../parser/diagnostics.ts";
import type { DockerfileAst, Stage } from "../parser/types.ts";
import type { ImportContext } from "./context.ts";
import { applyInstruction } from "./instructions.ts";
import { tpl } from "./words.ts";

export interface ImportOptions {
  /** The Dockerfile's path, for locations in diagnostics and in the graph. */
  readonly file?: string;
  /** Patterns from the `.dockerignore` that applies (the build context excludes them). */
  readonly ignore?: readonly string[];
  /**
   * Names of named build contexts (`--build-context NAME=DIR`): `COPY --from=NAME` and
   * `RUN --mount=from=NAME` read that directory rather than an image of that name, as BuildKit does.
   */
  readonly namedContexts?: readonly string[];
  /** The environment bounds are read from (`STRATA_MAX_WORD_BYTES`); default: none, so the default bounds. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The build context's directory relative to the image file, when it is not the file's own
   * (a Dockerfile exported from `context("app", { exclude })` is built with `app` as its context).
   */
  readonly contextPath?: string;
  /** FROM and `--from` names that are images of the local Docker daemon (`dockerDaemon(name)`), not of a registry. */
  readonly daemonImages?: readonly string[];
}

export interface ImportedDockerfile {
  /** Every stage, in file order: its name (lower-cased) or its index, and its image. */
  readonly stages: ReadonlyArray<{ readonly name: string | undefined; readonly index: number; readonly image: Image }>;
  readonly ast: DockerfileAst;
  /** Parser diagnostics (warnings; errors make importDockerfile throw). */
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Dockerfile → the same Image values the typed builders make: stages become images,
 * `COPY --from=stage` copies from that image, build args stay symbolic, every op's location is
 * the Dockerfile line it came from. Unused stages are converted too (the codegen keeps them);
 * they are simply not part of another target's graph.
 */
export function importDockerfile(text: string | Uint8Array, opts: ImportOptions = {}): ImportedDockerfile {
  const file = opts.file ?? "Dockerfile";
  const { ast, diagnostics } = parseDockerfile(text, { file, ...(opts.env ? { env: opts.env } : {}) });
  const diags = diagnostics.map((d) => toGraphDiagnostic(d, file));
  const errors = diags.filter((d) => d.severity === "error");
  if (errors.length) {
    const first = errors[0]!;
    throw new StrataError(first.code, first.message, {
      locations: first.locations ?? [],
      diagnostics: diags,
      ...(first.hint ? { hint: first.hint } : {}),
    });
  }
  if (!ast.stages.length) {
    throw new StrataError("STRATA_IMPORT_NO_STAGE", "the Dockerfile has no FROM instruction", { locations: [{ file, line: 1, column: 1 }], hint: "a Dockerfile starts a stage with FROM <image>" });
  }
  const ctx: ImportContext = {
    file,
    escapeToken: ast.escapeToken,
    stagesByName: new Map(),
    stagesByIndex: [],
    contextExclude: opts.ignore,
    namedContexts: new Set(opts.namedContexts ?? []),
    contextPath: opts.contextPath,
    daemonImages: new Set(opts.daemonImages ?? []),
    loc: (span) => toLocation(span, file),
  };
  // Global ARGs: what FROM lines read; a stage's `ARG X` (no default) takes X's global default.
  const globalArgs = ast.globalArgs.flatMap((ins) =>
    ins.args.map((a) => ({ name: a.name, default: a.default !== undefined ? tpl(ctx, a.default, ins.span, `ARG ${a.name}`) : undefined })),
  );
  const argValues = globalArgs.map((a) => declareArg(a.name, a.default));
  const stages: Array<{ name: string | undefined; index: number; image: Image }> = [];
  for (const stage of ast.stages) {
    let image: Image;
    try {
      image = convertStage(stage, ctx, argValues);
    } catch (e) {
      throw locate(e, ctx, stage);
    }
    if (stage.name) {
      image = named(image, stage.name);
      ctx.stagesByName.set(stage.name, image);
    }
    ctx.stagesByIndex.push(image);
    stages.push({ name: stage.name, index: stage.index, image });
  }
  return { stages, ast, diagnostics: diags };
}

function convertStage(stage: Stage, ctx: ImportContext, argValues: ReturnType<typeof declareArg>[]): Image {
  const f = stage.from;
  let img = atLocation(ctx.loc(f.span), () => {
    const ref = tpl(ctx, f.image, f.span, "FROM");
    const parent = ctx.stagesByName.get(ref.toLowerCase());
    if (parent) return from(parent);
    if (ref === "scratch") return scratch({ args: argValues });
    const platform = f.platform !== undefined ? tpl(ctx, f.platform, f.span, "FROM --platform") : undefined;
    const image = from(ctx.daemonImages.has(ref) ? dockerDaemon(ref) : ref, { args: argValues, ...(platform !== undefined ? { platform: platform as never } : {}) });
    // BuildKit expands the FROM value first: a value naming an earlier stage is that stage.
    const candidates = stageCandidates(ref, ctx.stagesByName, argValues);
    if (!candidates.length) return image;
    return stageFor(ref, Object.fromEntries(candidates), { otherwise: image, args: argValues });
  });
  for (const ins of stage.instructions) {
    try {
      img = atLocation(ctx.loc(ins.span), () => applyInstruction(img, ins, ctx));
    } catch (e) {
      throw locate(e, ctx, ins);
    }
  }
  return img;
}

/** Errors from the builders (TypeErrors, coded errors) become coded errors at the instruction's line. */
function locate(e: unknown, ctx: ImportContext, node: { span: Parameters<ImportContext["loc"]>[0] }): StrataError {
  if (isStrataError(e)) return e.locations.length ? e : e.withLocation(ctx.loc(node.span));
  const message = e instanceof Error ? e.message : String(e);
  return new StrataError("STRATA_IMPORT_INVALID", message, { locations: [ctx.loc(node.span)] });
}

/** The stage a target name picks (`--target`), or the last stage. */
export function pickStage(imported: ImportedDockerfile, target: string | undefined): { name: string; image: Image } {
  if (target === undefined) {
    const last = imported.stages[imported.stages.length - 1]!;
    return { name: last.name ?? String(last.index), image: last.image };
  }
  const lower = target.toLowerCase();
  const hit = imported.stages.find((s) => s.name === lower) ?? (/^\d+$/.test(target) ? imported.stages[Number(target)] : undefined);
  if (!hit) {
    const names = imported.stages.map((s) => s.name ?? String(s.index));
    throw new StrataError("STRATA_UNKNOWN_TARGET", `no stage ${JSON.stringify(target)} in the Dockerfile`, { hint: `stages: ${names.join(", ")}` });
  }
  return { name: hit.name ?? String(hit.index), image: hit.image };
}
