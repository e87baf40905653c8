import type { Diagnostic } from "@strata/graph";
import type { ts } from "ts-morph";
import { importDockerfile, pickStage, type DockerfileAst, type ImportedDockerfile } from "@strata/dockerfile";
import { commentLines } from "./comments.ts";
import { coreCall, type GenContext, type StageRef } from "./context.ts";
import { argInitializer, bareFromRefs, planGlobalArgs } from "./global-args.ts";
import { arr, id, obj, str } from "./literals.ts";
import { printModule, type ModuleItem } from "./module.ts";
import { camelCase, isPlainIdentifier, NameTable, nameFromImage, type CoreName } from "./names.ts";
import { stageCode } from "./stage.ts";
import { mountsKey } from "./instructions.ts";
import { tpl, type WordContext } from "./words.ts";

export interface GenerateOptions {
  /** The Dockerfile's path, for diagnostics. */
  readonly file?: string;
  /** Patterns of the `.dockerignore` that applies: the module's build context excludes them. */
  readonly ignore?: readonly string[];
  /** The stage that becomes the default export (a name or an index; default: the last). */
  readonly target?: string;
}

/** A Dockerfile target (stage name, or index for an unnamed stage) and the module exports that give the same image. */
export interface GeneratedTarget {
  readonly dockerfile: string;
  readonly exports: readonly string[];
}

export interface GeneratedModule {
  /** The `.image.ts` source, formatted. */
  readonly source: string;
  /** The parser's warnings (errors throw, as in importDockerfile). */
  readonly diagnostics: readonly Diagnostic[];
  /** Every stage and the exports standing for it: what a caller verifies digests over. */
  readonly targets: readonly GeneratedTarget[];
  /** The importer's result for the same text: the images the module must reproduce. */
  readonly imported: ImportedDockerfile;
}

/**
 * Dockerfile → an idiomatic `.image.ts` module that makes exactly the builder calls the
 * importer makes (so every stage has the same graph digest), written the way a person would:
 * global ARGs as typed `arg()` consts, one const per stage named after it, `COPY --from`
 * through the stage's value, the target stage as the default export, comments kept.
 */
export function generateImageModule(text: string | Uint8Array, opts: GenerateOptions = {}): GeneratedModule {
  const file = opts.file ?? "Dockerfile";
  const imported = importDockerfile(text, { file, ...(opts.ignore ? { ignore: opts.ignore } : {}) });
  const ast = imported.ast;
  const source = typeof text === "string" ? text : new TextDecoder().decode(text);
  const lines = source.replace(/^\ufeff/, "").split("\n");
  const picked = pickStage(imported, opts.target);
  const targetIndex = imported.stages.find((s) => s.image === picked.image)!.index;
  const wctx: WordContext = { escapeToken: ast.escapeToken, file };

  const names = new NameTable();
  const globals = planGlobalArgs(ast, wctx, lines, names);
  const bare = bareFromRefs(ast, wctx);
  const listConst = globals.mode === "explicit" ? names.take("globalArgs") : undefined;
  const contextConst = opts.ignore?.length ? names.take("src", "Context") : undefined;
  const referenced = referencedStages(ast, wctx);
  const stageNames = allocateStageNames(ast, wctx, names, targetIndex, referenced);

  const imports = new Set<CoreName>();
  const uses = new Map<string, number>();
  for (const s of ast.stages) for (const ins of s.instructions) if (ins.kind === "RUN") {
    const key = mountsKey(ins);
    if (key !== undefined) uses.set(key, (uses.get(key) ?? 0) + 1);
  }
  const sharedMounts = { uses, made: new Map(), take: (w: string) => names.take(w) };
  const ctx: GenContext = { ...wctx, lines, imports, globalConsts: globals.consts, contextConst, stagesByName: new Map(), stagesByIndex: [], sharedMounts };
  const items: ModuleItem[] = [];
  const aliases: Array<{ name: string; alias: string }> = [];
  let defaultExport: ModuleItem | undefined;
  const targets: GeneratedTarget[] = [];

  globals.list.forEach((a, i) => {
    items.push({ kind: "const", name: a.constName, exported: false, comments: a.comments, head: argInitializer(ctx, a, globals.mode, bare), blankBefore: i === 0 || a.comments.length > 0 });
  });
  if (listConst) {
    items.push({
      kind: "const",
      name: listConst,
      exported: false,
      comments: [" Every FROM sees the global args in declaration order (one is declared twice, so they are passed explicitly)."],
      head: arr(globals.list.map((a) => id(a.constName)), globals.list.reduce((n, a) => n + a.constName.length + 2, 0) > 100),
      blankBefore: true,
    });
  }
  let contextIndex = -1;
  if (contextConst) {
    contextIndex = items.length;
    items.push({
      kind: "const",
      name: contextConst,
      exported: false,
      comments: [" The build context, without what .dockerignore excludes."],
      head: coreCall(ctx, "context", [str("."), obj([["exclude", arr(opts.ignore!.map(str), opts.ignore!.length > 3)]])]),
      blankBefore: true,
    });
  }

  const declared = ast.globalArgs.flatMap((ins) => ins.args.map((a) => ({ name: a.name, default: a.default !== undefined ? tpl(wctx, a.default, ins.span, `ARG ${a.name}`) : undefined })));
  const sharedIndex = items.length;
  for (const stage of ast.stages) {
    const n = stageNames[stage.index]!;
    const code = stageCode(ctx, stage, { listConst, declared });
    const isDefault = stage.index === targetIndex;
    if (n.constName !== undefined) {
      items.push({ kind: "const", name: n.constName, exported: n.exportName === n.constName, comments: code.comments, head: code.head, calls: code.calls, trailing: code.trailing, blankBefore: true });
      if (n.exportName !== undefined && n.exportName !== n.constName) aliases.push({ name: n.constName, alias: n.exportName });
      if (isDefault) defaultExport = { kind: "default", comments: [], head: id(n.constName) };
    } else {
      items.push({ kind: "default", comments: code.comments, head: code.head, calls: code.calls, trailing: code.trailing });
    }
    targets.push({ dockerfile: stage.name ?? String(stage.index), exports: [...(n.exportName !== undefined ? [n.exportName] : []), ...(isDefault ? ["default"] : [])] });
    const ref: StageRef = { index: stage.index, constName: n.constName ?? "" };
    if (stage.name) ctx.stagesByName.set(stage.name, ref);
    ctx.stagesByIndex.push(ref);
  }
  // Shared mount lists come before the stages (they read no stage).
  const shared = [...sharedMounts.made.values()].map((m, i): ModuleItem => ({
    kind: "const",
    name: m.name,
    exported: false,
    comments: i === 0 ? [" Mounts several RUN steps share."] : [],
    head: m.list,
    blankBefore: i === 0,
  }));
  items.splice(sharedIndex, 0, ...shared);
  if (contextIndex >= sharedIndex) contextIndex += shared.length;
  // `export default build;` closes the module when the default stage has a const (it may be referenced, or named).
  if (defaultExport) items.push(defaultExport);
  // The context const is declared only when something reads the build context through it.
  if (contextIndex >= 0 && !usesContextConst(items, contextConst!)) {
    items.splice(contextIndex, 1);
    imports.delete("context"); // with a .dockerignore every read of the context goes through the const
  }

  const sourceText = printModule({ imports, items, aliases, trailingComments: commentLines(lines, ast.trailingComments) });
  return { source: sourceText, diagnostics: imported.diagnostics, targets, imported };
}

interface StageNames {
  /** The const holding the stage (absent: an unnamed default export nobody references). */
  readonly constName: string | undefined;
  /** The module export that stands for the stage besides `default`. */
  readonly exportName: string | undefined;
}

/**
 * Named stages first (they keep their names), then unnamed ones (named after their base image).
 * An export name that is not an identifier (`build-env`) is exported as a string alias, so
 * `--target build-env` picks the same stage from the module as from the Dockerfile.
 */
function allocateStageNames(ast: DockerfileAst, wctx: WordContext, names: NameTable, targetIndex: number, referenced: ReadonlySet<number>): StageNames[] {
  const out: StageNames[] = [];
  for (const s of ast.stages) {
    if (!s.name) continue;
    const constName = names.take(isPlainIdentifier(s.name) ? s.name : camelCase(s.name), "Stage");
    out[s.index] = { constName, exportName: s.name === "default" ? (s.index === targetIndex ? undefined : constName) : s.name };
  }
  for (const s of ast.stages) {
    if (s.name) continue;
    const isDefault = s.index === targetIndex;
    if (isDefault && !referenced.has(s.index)) {
      out[s.index] = { constName: undefined, exportName: undefined };
      continue;
    }
    let base: string | undefined;
    try {
      base = nameFromImage(tpl(wctx, s.from.image, s.from.span, "FROM"));
    } catch {
      base = undefined;
    }
    const constName = names.take(base ?? `stage${s.index}`, "Stage");
    out[s.index] = { constName, exportName: isDefault ? undefined : constName };
  }
  return out;
}

/** Stages that a later FROM, `COPY --from` or mount `from=` reads (resolved as the importer does). */
function referencedStages(ast: DockerfileAst, wctx: WordContext): Set<number> {
  const byName = new Map<string, number>();
  const refs = new Set<number>();
  for (const s of ast.stages) {
    const resolve = (name: string) => {
      const i = byName.get(name.toLowerCase()) ?? (/^\d+$/.test(name) && Number(name) < s.index ? Number(name) : undefined);
      if (i !== undefined) refs.add(i);
    };
    try {
      const parent = byName.get(tpl(wctx, s.from.image, s.from.span, "FROM").toLowerCase());
      if (parent !== undefined) refs.add(parent);
    } catch {
      // the importer reports bad words
    }
    for (const ins of s.instructions) {
      if (ins.kind === "COPY" && ins.from !== undefined) resolve(ins.from);
      if (ins.kind === "RUN") for (const m of ins.mounts) if (m.from !== undefined) resolve(m.from);
    }
    if (s.name) byName.set(s.name, s.index);
  }
  return refs;
}

function usesContextConst(items: readonly ModuleItem[], name: string): boolean {
  return items.some((it) => !(it.kind === "const" && it.name === name) && [it.head, ...(it.calls ?? []).flatMap((c) => c.args)].some((e) => mentions(e, name)));
}

/** Whether an expression mentions the identifier `name` anywhere inside. */
function mentions(node: ts.Node, name: string): boolean {
  if ((node as { escapedText?: string }).escapedText === name) return true;
  let hit = false;
  node.forEachChild((c) => {
    hit ||= mentions(c, name);
  });
  return hit;
}
