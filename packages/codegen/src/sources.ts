import { StrataError, templateRefs } from "@strata/graph";
import type { Span } from "@strata/dockerfile";
import type { ts } from "ts-morph";
import { coreCall, spanLocation, type GenContext, type StageRef } from "./context.ts";
import { arr, id, method, obj } from "./literals.ts";
import { tstr } from "./template-text.ts";
import { tpl } from "./words.ts";

/**
 * Where COPY/ADD and mounts read from, as the importer resolves it (import/mounts.ts): a stage
 * by name or index, else an image reference pulled with no global args.
 */
export type FromTarget = { readonly stage: StageRef } | { readonly image: ts.Expression };

export function resolveFrom(ctx: GenContext, name: string, span: Span): FromTarget {
  const byName = ctx.stagesByName.get(name.toLowerCase());
  if (byName) return { stage: byName };
  if (/^\d+$/.test(name)) {
    const byIndex = ctx.stagesByIndex[Number(name)];
    if (!byIndex) throw new StrataError("STRATA_IMPORT_BAD_FROM", `--from=${name}: there is no stage ${name} before this instruction`, { locations: [spanLocation(ctx, span)] });
    return { stage: byIndex };
  }
  return { image: imageRef(ctx, tpl(ctx, name, span, "--from")) };
}

/**
 * `from(ref, { args: [] })` as the importer writes it for `--from=<image>`; the explicit empty
 * list matters only when the reference reads a variable (otherwise the scope is empty anyway).
 */
function imageRef(ctx: GenContext, ref: string): ts.Expression {
  return templateRefs(ref).length ? coreCall(ctx, "from", [tstr(ref), obj([["args", arr([])]])]) : coreCall(ctx, "from", [tstr(ref)]);
}

/** `stage` or `stage.path("/out")` (a bare image stands for its root, `/`). */
export function stagePaths(base: ts.Expression, paths: readonly string[], rootIsBare: boolean): ts.Expression {
  if (rootIsBare && paths.length === 1 && paths[0] === "/") return base;
  return method(base, "path", paths.map(tstr));
}

export function fromTargetExpr(t: FromTarget): ts.Expression {
  return "stage" in t ? id(t.stage.constName) : t.image;
}

/** The build context: `context()` or the shared const that carries the `.dockerignore` excludes. */
function contextExpr(ctx: GenContext): ts.Expression {
  return ctx.contextConst ? id(ctx.contextConst) : coreCall(ctx, "context", []);
}

/** Paths inside the build context as a copy source: `"a"`, `["a", "b"]`, or `src.files("a", "b")` with a .dockerignore. */
export function contextSources(ctx: GenContext, paths: readonly string[]): ts.Expression {
  if (!ctx.contextConst) return paths.length === 1 ? tstr(paths[0]!) : arr(paths.map(tstr));
  const src = id(ctx.contextConst);
  if (paths.length === 1 && paths[0] === ".") return src;
  return paths.length === 1 ? method(src, "path", [tstr(paths[0]!)]) : method(src, "files", paths.map(tstr));
}

/** A path inside a `--from` source or the build context, for mounts (`bind(...)`, cache `from`). */
export function mountSource(ctx: GenContext, fromName: string | undefined, source: string | undefined, span: Span, what: string): ts.Expression {
  if (fromName === undefined) {
    const p = source === undefined ? "." : tpl(ctx, source, span, what);
    const c = contextExpr(ctx);
    return p === "." ? c : method(c, "path", [tstr(p)]);
  }
  const target = resolveFrom(ctx, fromName, span);
  const p = source === undefined ? "/" : tpl(ctx, source, span, what);
  return stagePaths(fromTargetExpr(target), [p], true);
}

