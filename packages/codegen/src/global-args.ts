import { parseTemplate, formatSegments, type Segment } from "@strata/graph";
import type { DockerfileAst } from "@strata/dockerfile";
import type { ts } from "ts-morph";
import { commentLines, type CommentLine } from "./comments.ts";
import { coreCall, type GenContext } from "./context.ts";
import { bool, id, interpolate, num, str } from "./literals.ts";
import type { NameTable } from "./names.ts";
import { tpl, type WordContext } from "./words.ts";
import { tstr } from "./template-text.ts";

/** One global `ARG` (before the first FROM) as a top-level const. */
export interface GlobalArg {
  readonly name: string;
  /** The default as a template (what the importer passes to `declareArg`). */
  readonly default: string | undefined;
  readonly constName: string;
  readonly comments: readonly CommentLine[];
}

export interface GlobalArgs {
  readonly list: readonly GlobalArg[];
  /**
   * `natural`: `const X = arg("X", …)` registers each global and every `from()` reads them all,
   * which is what the importer's explicit list amounts to when each name is declared once.
   * `explicit`: a name is declared twice, so the process-wide table (one entry per name) would
   * lose the first declaration; the args are `declareArg()` values passed to each source.
   */
  readonly mode: "natural" | "explicit";
  /** Name → const of its latest declaration. */
  readonly consts: ReadonlyMap<string, string>;
}

export function planGlobalArgs(ast: DockerfileAst, wctx: WordContext, lines: readonly string[], names: NameTable): GlobalArgs {
  const list: GlobalArg[] = [];
  const declared = new Set<string>();
  for (const ins of ast.globalArgs) {
    ins.args.forEach((a, i) => {
      const def = a.default !== undefined ? tpl(wctx, a.default, ins.span, `ARG ${a.name}`) : undefined;
      // A second declaration is `NAME2`; a name taken otherwise (`from`, TARGETARCH) gets an Arg suffix.
      const constName = declared.has(a.name) ? names.take(a.name) : names.take(a.name, /^[A-Z0-9_]+$/.test(a.name) ? "_ARG" : "Arg");
      declared.add(a.name);
      list.push({ name: a.name, default: def, constName, comments: i === 0 ? commentLines(lines, ins.comments) : [] });
    });
  }
  const seen = new Set<string>();
  const duplicate = list.some((a) => {
    if (seen.has(a.name)) return true;
    seen.add(a.name);
    return false;
  });
  const consts = new Map(list.map((a) => [a.name, a.constName]));
  return { list, mode: duplicate ? "explicit" : "natural", consts };
}

/**
 * Integer defaults are typed as numbers only for args whose name says they are numbers (ports,
 * ids, counts), and `true`/`false` as booleans: a typed arg refuses other `--build-arg` values,
 * which a version like `22` must not. Args used as a whole FROM reference stay strings.
 */
const NUMERIC_NAME = /(^|_)(PORT|UID|GID|JOBS|WORKERS|THREADS|COUNT|SIZE|TIMEOUT|RETRIES)$/i;

export function argInitializer(ctx: GenContext, a: GlobalArg, mode: GlobalArgs["mode"], bareFromRefs: ReadonlySet<string>): ts.Expression {
  if (mode === "explicit") return coreCall(ctx, "declareArg", a.default === undefined ? [str(a.name)] : [str(a.name), tstr(a.default)]);
  if (a.default === undefined) return coreCall(ctx, "arg", [str(a.name)]);
  return coreCall(ctx, "arg", [str(a.name), typedDefault(a, bareFromRefs)]);
}

function typedDefault(a: GlobalArg, bareFromRefs: ReadonlySet<string>): ts.Expression {
  const d = a.default!;
  if (bareFromRefs.has(a.name)) return tstr(d);
  if (d === "true" || d === "false") return bool(d === "true");
  if (/^(0|[1-9]\d{0,8})$/.test(d) && NUMERIC_NAME.test(a.name)) return num(Number(d));
  return tstr(d);
}

/**
 * A FROM reference: `NODE_IMAGE` when it is one global arg, `` `node:${NODE_VERSION}-alpine` ``
 * when it reads globals plainly (the Arg's `${NAME}` reads back as the same template), else
 * the template as a string.
 */
export function refExpr(ref: string, consts: ReadonlyMap<string, string>): ts.Expression {
  let segs: Segment[];
  try {
    segs = parseTemplate(ref);
  } catch {
    return tstr(ref);
  }
  const refs = segs.filter((s): s is Extract<Segment, { type: "ref" }> => s.type === "ref");
  if (!refs.length || refs.some((r) => r.modifier !== undefined || !consts.has(r.name))) return tstr(ref);
  if (segs.length === 1) return id(consts.get(refs[0]!.name)!);
  const texts: string[] = [];
  const exprs: ts.Expression[] = [];
  let text = "";
  for (const s of segs) {
    if (s.type === "text") text += formatSegments([s]);
    else {
      texts.push(text);
      text = "";
      exprs.push(id(consts.get(s.name)!));
    }
  }
  texts.push(text);
  return interpolate(texts, exprs);
}

/** Names of global args used as a whole FROM reference (`FROM $BASE`): `from()` takes only string args. */
export function bareFromRefs(ast: DockerfileAst, wctx: WordContext): Set<string> {
  const out = new Set<string>();
  for (const s of ast.stages) {
    try {
      const segs = parseTemplate(tpl(wctx, s.from.image, s.from.span, "FROM"));
      if (segs.length === 1 && segs[0]!.type === "ref" && !segs[0]!.modifier) out.add(segs[0]!.name);
    } catch {
      // the importer reports bad words
    }
  }
  return out;
}
