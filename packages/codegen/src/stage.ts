import { stageCandidates, type Stage } from "@strata/dockerfile";
import { templateRefs } from "@strata/graph";
import type { ts } from "ts-morph";
import type { CommentLine } from "./comments.ts";
import { commentLines } from "./comments.ts";
import { coreCall, type GenContext } from "./context.ts";
import { refExpr } from "./global-args.ts";
import { instructionCalls, type ChainCall } from "./instructions.ts";
import { id, obj, options } from "./literals.ts";
import { PLATFORM_ARGS } from "./names.ts";
import { platformExpr } from "./typed-values.ts";
import { tpl } from "./words.ts";

/** A stage as code: `head` (from/scratch) and its chain of calls, with the comments around them. */
export interface StageCode {
  readonly head: ts.Expression;
  readonly calls: readonly ChainCall[];
  /** The comment block before the FROM line. */
  readonly comments: readonly CommentLine[];
  /** Comments of instructions that became no call (an EXPOSE of nothing) at the end of the stage. */
  readonly trailing: readonly string[];
}

export interface StageArgs {
  /** In explicit mode, the const holding the global args list every source is given. */
  readonly listConst: string | undefined;
  /** The global args with their default templates (what decides which stages a FROM value can name). */
  readonly declared: ReadonlyArray<{ readonly name: string; readonly default: string | undefined }>;
}

export function stageCode(ctx: GenContext, stage: Stage, globals: StageArgs): StageCode {
  const head = stageHead(ctx, stage, globals);
  const calls: ChainCall[] = [];
  let pending: string[] = [];
  for (const ins of stage.instructions) {
    const lines = commentLines(ctx.lines, ins.comments).filter((l): l is string => l !== null);
    pending.push(...lines);
    const made = instructionCalls(ctx, ins);
    if (!made.length) continue;
    const [first, ...rest] = made;
    calls.push({ ...first!, comments: [...pending, ...first!.comments] }, ...rest);
    pending = [];
  }
  return { head, calls, comments: commentLines(ctx.lines, stage.from.comments), trailing: pending };
}

/**
 * FROM as the importer converts it: a previous stage's const (`from(build)`), `scratch()`, or
 * `from(ref, { platform })`, where the reference reads global args through their consts.
 */
function stageHead(ctx: GenContext, stage: Stage, globals: StageArgs): ts.Expression {
  const f = stage.from;
  const ref = tpl(ctx, f.image, f.span, "FROM");
  const parent = ctx.stagesByName.get(ref.toLowerCase());
  if (parent) return coreCall(ctx, "from", [id(parent.constName)]);
  const args = globals.listConst ? id(globals.listConst) : undefined;
  if (ref === "scratch") return coreCall(ctx, "scratch", args ? [obj([["args", args]])] : []);
  const platform = f.platform !== undefined ? tpl(ctx, f.platform, f.span, "FROM --platform") : undefined;
  const opts = options([
    ["platform", platform !== undefined ? platformExpr(ctx, platform) : undefined],
    ["args", args],
  ]);
  // A value that can name an earlier stage picks that stage when the build runs (as the importer reads it).
  const candidates = stageCandidates(ref, ctx.stagesByName, globals.declared);
  const refArg = candidates.length ? keyExpr(ctx, ref) : refExpr(ref, ctx.globalConsts);
  const image = coreCall(ctx, "from", opts ? [refArg, opts] : [refArg]);
  if (!candidates.length) return image;
  const stages = obj(candidates.map(([name, s]) => [name, id(s.constName)] as const), candidates.length > 2);
  return coreCall(ctx, "stageFor", [keyExpr(ctx, ref), stages, obj([["otherwise", image], ...(args ? [["args", args] as const] : [])], true)]);
}

/** The key of a stage select: global args through their consts, platform args through @strata/core's. */
function keyExpr(ctx: GenContext, ref: string): ts.Expression {
  const consts = new Map(ctx.globalConsts);
  for (const name of templateRefs(ref)) {
    if (!consts.has(name) && PLATFORM_ARGS.has(name)) {
      ctx.imports.add(name as "TARGETOS");
      consts.set(name, name);
    }
  }
  return refExpr(ref, consts);
}
