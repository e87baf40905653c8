import { StrataError, templateRefs } from "@strata/graph";
import { heredocTemplate, heredocText, type CommandForm, type Instruction } from "@strata/dockerfile";
import { ts } from "ts-morph";
import { refExpr } from "./global-args.ts";
import { core, coreCall, spanLocation, type GenContext } from "./context.ts";
import { shellText } from "./continuation.ts";
import { commentText } from "./comments.ts";
import { arr, bool, castSha256, id, interpolate, num, obj, options, print, str } from "./literals.ts";

const SyntaxKind = ts.SyntaxKind;
import { mountExpr } from "./mounts.ts";
import { tstr, userText } from "./template-text.ts";
import { PLATFORM_ARGS, type CoreName } from "./names.ts";
import { contextSources, fromTargetExpr, resolveFrom, stagePaths } from "./sources.ts";
import { durationExpr, modeExpr, ownerExpr, portExpr, signalExpr } from "./typed-values.ts";
import { isHeredocOnly, tpl, tpls } from "./words.ts";

/** One `.method(args)` link of a stage's chain, with the comment lines written above it. */
export interface ChainCall {
  readonly method: string;
  readonly args: readonly ts.Expression[];
  readonly comments: readonly string[];
}

const link = (method: string, args: ReadonlyArray<ts.Expression | undefined>, comments: readonly string[] = []): ChainCall => ({
  method,
  args: args.filter((a): a is ts.Expression => a !== undefined),
  comments,
});

/**
 * One instruction → the builder calls the importer makes for it (import/instructions.ts),
 * with the same arguments, written as TypeScript a maintainer would write.
 */
export function instructionCalls(ctx: GenContext, ins: Instruction): ChainCall[] {
  const t = (raw: string, what: string) => tpl(ctx, raw, ins.span, what);
  switch (ins.kind) {
    case "ARG": {
      const values = new ValueTexts(ctx, ins.raw);
      const calls = ins.args.map((a) => (a.default !== undefined ? link("arg", [str(a.name), argDefault(ctx, values, t(a.default, `ARG ${a.name}`))]) : link("arg", [argRef(ctx, a.name)])));
      return withComments(calls, values.rest());
    }
    case "ENV": {
      const values = new ValueTexts(ctx, ins.raw);
      const vars = dedupe(ins.pairs.map((p) => [p.key, t(p.value, `ENV ${p.key}`)] as const));
      return withComments([keyValues("env", vars, false, (v) => values.of(v))], values.rest());
    }
    case "LABEL": {
      const values = new ValueTexts(ctx, ins.raw);
      const labels = dedupe(ins.pairs.map((p) => [t(p.key, "LABEL key"), t(p.value, `LABEL ${p.key}`)] as const));
      return withComments([keyValues("label", labels, true, (v) => values.of(v))], values.rest());
    }
    case "RUN":
      return [run(ctx, ins)];
    case "CMD":
    case "ENTRYPOINT": {
      const c = command(ctx, ins.command, ins.raw);
      return [link(ins.kind === "CMD" ? "cmd" : "entrypoint", [c.expression], c.innerComments)];
    }
    case "COPY":
    case "ADD":
      return copy(ctx, ins);
    case "WORKDIR":
      return [link("workdir", [tstr(t(ins.path, "WORKDIR"))])];
    case "USER":
      return [link("user", [ownerExpr(t(ins.user, "USER"))])];
    case "EXPOSE": {
      const ports = ins.ports.flatMap((p) => tpls(ctx, p, ins.span, "EXPOSE"));
      return ports.length ? [link("expose", ports.map((p) => portExpr(ctx, p)))] : [];
    }
    case "VOLUME": {
      const paths = ins.json ? ins.paths.map((p) => t(p, "VOLUME")) : ins.paths.flatMap((p) => tpls(ctx, p, ins.span, "VOLUME"));
      return paths.length ? [link("volume", paths.map(tstr))] : [];
    }
    case "HEALTHCHECK": {
      if (ins.type === "NONE") return [link("healthcheck", [str("none")])];
      const c = command(ctx, ins.command!, ins.raw);
      const dur = (d: { nanoseconds: number } | undefined) => (d?.nanoseconds ? durationExpr(d.nanoseconds) : undefined);
      const opts = options([
        ["interval", dur(ins.interval)],
        ["timeout", dur(ins.timeout)],
        ["startPeriod", dur(ins.startPeriod)],
        ["startInterval", dur(ins.startInterval)],
        ["retries", ins.retries ? num(ins.retries) : undefined],
      ]);
      return [link("healthcheck", [c.expression, opts], c.innerComments)];
    }
    case "STOPSIGNAL":
      return [link("stopSignal", [signalExpr(ctx, t(ins.signal, "STOPSIGNAL"))])];
    case "SHELL":
      return [link("shell", [stringArray(ins.shell)])];
    case "MAINTAINER":
      return [link("author", [str(ins.maintainer)])];
    case "ONBUILD": {
      // A trigger with heredocs keeps their bodies, so the trigger runs as written.
      const docs = ins.instruction && "heredocs" in ins.instruction ? ins.instruction.heredocs : [];
      return [link("onbuild", [str(ins.expression + docs.map((h) => `\n${h.content}${h.name}`).join(""))])];
    }
    case "FROM":
      throw new StrataError("STRATA_IMPORT_INTERNAL", "FROM inside a stage", { locations: [spanLocation(ctx, ins.span)] });
  }
}

/**
 * `ARG NAME` without a default: the global arg's const when NAME is a global (its value is the
 * global one), core's typed constant for the platform args, else the name.
 */
function argRef(ctx: GenContext, name: string): ts.Expression {
  const global = ctx.globalConsts.get(name);
  if (global) return id(global);
  if (PLATFORM_ARGS.has(name)) return core(ctx, name as CoreName);
  return str(name);
}

/**
 * Values of an ARG or ENV written over continuation lines stay over those lines (a template
 * literal, the Dockerfile's comments inside it as `//` lines between its pieces); the
 * instruction's other comment lines go above its call, so none is lost.
 */
class ValueTexts {
  readonly #all: string[];
  readonly #placed: string[] = [];
  constructor(
    private readonly ctx: GenContext,
    private readonly raw: string,
  ) {
    this.#all = [];
    const lines = raw.split("\n").slice(1);
    for (const l of lines) if (/^\s*#/.test(l)) this.#all.push(l.trim().slice(1));
  }
  of(template: string): ts.Expression {
    const text = userText(template);
    if (!this.#all.length && !this.raw.includes("\n")) return str(text);
    const s = shellText(text, this.raw, this.ctx.escapeToken, { inside: true });
    this.#placed.push(...(s.placed ?? []));
    return s.expression;
  }
  /** The comments no value carries, in order. */
  rest(): string[] {
    const placed = [...this.#placed];
    return this.#all.filter((c) => {
      const i = placed.indexOf(c);
      if (i < 0) return true;
      placed.splice(i, 1);
      return false;
    });
  }
}

/**
 * The same mount list on several RUN steps (a Go or npm cache set repeated per step) is one
 * const, declared before the stages. Only lists that read no stage (cache, secret, tmpfs,
 * ssh and context binds), so the const can come first.
 */
function sharedList(ctx: GenContext, ins: Extract<Instruction, { kind: "RUN" }>, list: ts.Expression): ts.Expression {
  const shared = ctx.sharedMounts;
  const key = mountsKey(ins);
  if (!shared || key === undefined || (shared.uses.get(key) ?? 0) < 2) return list;
  let made = shared.made.get(key);
  if (!made) {
    made = { name: shared.take(ins.mounts.every((m) => m.type === "cache") ? "cacheMounts" : "runMounts"), list };
    shared.made.set(key, made);
  }
  return id(made.name);
}

/** A RUN's mount list as text, when it can be shared (it reads no stage or image). */
export function mountsKey(ins: Extract<Instruction, { kind: "RUN" }>): string | undefined {
  if (!ins.mounts.length || ins.mounts.some((m) => m.from !== undefined)) return undefined;
  // Two or more mounts: a single short mount reads better inline.
  if (ins.mounts.length < 2) return undefined;
  return ins.mounts.map((m) => m.raw).join("\u0000");
}

/** `ARG X=$Y` where Y is a global arg: `` `${Y}` `` through its const (the same template), else the text. */
function argDefault(ctx: GenContext, values: ValueTexts, template: string): ts.Expression {
  const e = refExpr(template, ctx.globalConsts);
  if (e.kind === SyntaxKind.Identifier) return interpolate(["", ""], [e]);
  if (e.kind === SyntaxKind.TemplateExpression) return e;
  return values.of(template);
}

function withComments(calls: ChainCall[], comments: readonly string[]): ChainCall[] {
  if (!comments.length || !calls.length) return calls;
  const [first, ...more] = calls;
  return [{ ...first!, comments: [...comments.map(commentText), ...first!.comments] }, ...more];
}

/** `Object.fromEntries` semantics: a repeated key keeps its first position and takes its last value. */
function dedupe(pairs: ReadonlyArray<readonly [string, string]>): Array<readonly [string, string]> {
  const m = new Map<string, string>();
  for (const [k, v] of pairs) m.set(k, v);
  return [...m];
}

/** `env("K", "v")` for one pair, `env({ … })` for several (one per line from three on). */
function keyValues(method: "env" | "label", pairs: ReadonlyArray<readonly [string, string]>, keysAreTemplates: boolean, valueExpr: (template: string) => ts.Expression = tstr): ChainCall {
  // The builder reads label keys as templates, env names as they are.
  const key = (k: string) => (keysAreTemplates ? userText(k) : k);
  if (pairs.length === 1) return link(method, [str(key(pairs[0]![0])), valueExpr(pairs[0]![1])]);
  const props = pairs.map(([k, v]) => [key(k), valueExpr(v)] as const);
  const single = obj(props);
  const multi = pairs.length > 2 || print(single).length > 80;
  return link(method, [multi ? obj(props, true) : single]);
}

function stringArray(items: readonly string[]): ts.Expression {
  const single = arr(items.map(str));
  // One line while it reads as one (a short CMD stays `cmd(["nginx", "-g", "daemon off;"])`).
  return print(single).length > 110 ? arr(items.map(str), true) : single;
}

/** Exec form → an array; shell form → `sh("…")` (multi-line commands keep their line breaks). */
function command(ctx: GenContext, c: CommandForm, raw: string): { expression: ts.Expression; innerComments: readonly string[] } {
  if (c.form === "exec") return { expression: stringArray(c.argv), innerComments: [] };
  const s = shellText(c.script, raw, ctx.escapeToken);
  return { expression: coreCall(ctx, "sh", [s.expression]), innerComments: s.innerComments };
}

/**
 * RUN, with BuildKit's heredoc rules as the importer applies them: a RUN that is only `<<EOF`
 * runs the body (as a program through `script()` when it starts with `#!`); otherwise the
 * heredocs go back after the command line and the whole text runs through the shell.
 */
function run(ctx: GenContext, ins: Extract<Instruction, { kind: "RUN" }>): ChainCall {
  const mounts = ins.mounts.map((m) => mountExpr(ctx, m, ins.span));
  const mountList = arr(mounts);
  const list = mounts.length > 1 && print(mountList).length > 70 ? arr(mounts, true) : mountList;
  const opts = options([
    ["mounts", mounts.length ? sharedList(ctx, ins, list) : undefined],
    ["network", ins.network ? str(ins.network) : undefined],
    ["security", ins.security ? str(ins.security) : undefined],
  ]);
  const c = ins.command;
  if (c.form === "exec") return link("run", [stringArray(c.argv), opts]);
  if (!ins.heredocs.length) {
    const s = shellText(c.script, ins.raw, ctx.escapeToken);
    return link("run", [s.expression, opts], s.innerComments);
  }
  if (ins.heredocs.length === 1 && isHeredocOnly(c.script)) {
    const h = ins.heredocs[0]!;
    const body = heredocText(h);
    if (body.startsWith("#!")) {
      const name = h.name === "EOF" ? undefined : options([["name", str(h.name)]]);
      return link("run", [coreCall(ctx, "script", name ? [str(body), name] : [str(body)]), opts]);
    }
    return link("run", [str(body), opts]);
  }
  let full = c.script;
  for (const h of ins.heredocs) full += `\n${h.content}${h.name}`;
  return link("run", [str(full), opts]);
}

const URL_RE = /^https?:\/\//i;
/** BuildKit's git URL detection, as the importer has it. */
const GIT_RE = /^(git@[^:]+:|git:\/\/|ssh:\/\/|https?:\/\/[^#]+\.git(?:#|$))/i;

function copy(ctx: GenContext, ins: Extract<Instruction, { kind: "COPY" | "ADD" }>): ChainCall[] {
  const t = (raw: string, what: string) => tpl(ctx, raw, ins.span, what);
  const method = ins.kind === "COPY" ? "copy" : "add";
  const dest = tstr(t(ins.dest, `${ins.kind} destination`));
  const opts = options([
    ["chown", ins.chown !== undefined ? tstr(t(ins.chown, "--chown")) : undefined],
    ["chmod", ins.chmod !== undefined ? modeExpr(ins.chmod) : undefined],
    ["link", ins.link ? bool(true) : undefined],
    ["exclude", ins.exclude.length ? arr(ins.exclude.map((x) => tstr(t(x, "--exclude")))) : undefined],
    ["parents", ins.kind === "COPY" && ins.parents ? bool(true) : undefined],
    ["keepGitDir", ins.kind === "ADD" && ins.keepGitDir ? bool(true) : undefined],
    ["unpack", ins.kind === "ADD" && ins.unpack !== undefined ? bool(ins.unpack) : undefined],
  ]);
  const paths = ins.sources.flatMap((s) => (s.type === "path" ? [s.path] : []));
  if (ins.sources.some((s) => s.type === "heredoc")) {
    // Each heredoc is its own file; several are several copies into the same place.
    return ins.sources.map((s) => {
      if (s.type !== "heredoc") throw new StrataError("STRATA_IMPORT_UNSUPPORTED", `${ins.kind} mixing heredocs and paths`, { locations: [spanLocation(ctx, ins.span)] });
      const body = heredocText(s.heredoc);
      const expand = s.heredoc.expand && /[$\\]/.test(body);
      const f = coreCall(ctx, "file", expand ? [str(s.heredoc.name), str(heredocTemplate(body)), obj([["expand", bool(true)]])] : [str(s.heredoc.name), str(body)]);
      return link(method, [f, dest, opts]);
    });
  }
  const sourcePaths = () => paths.map((p) => t(p, `${ins.kind} source`));
  if (ins.kind === "COPY" && ins.from !== undefined) {
    const target = resolveFrom(ctx, ins.from, ins.span);
    return [link(method, [stagePaths(fromTargetExpr(target), sourcePaths(), true), dest, opts])];
  }
  if (ins.kind === "ADD" && paths.some((p) => isRemote(t(p, "ADD source")))) {
    if (paths.length > 1) throw new StrataError("STRATA_IMPORT_UNSUPPORTED", "ADD of several URLs in one instruction", { locations: [spanLocation(ctx, ins.span)], hint: "one ADD per URL" });
    return [link(method, [remote(ctx, ins, paths[0]!), dest, opts])];
  }
  return [link(method, [contextSources(ctx, sourcePaths()), dest, opts])];
}

function isRemote(template: string): boolean {
  return URL_RE.test(template) || GIT_RE.test(template);
}

/** `http(url, { checksum })` or `git(url, { ref, keepGitDir, checksum })`. */
function remote(ctx: GenContext, ins: Extract<Instruction, { kind: "ADD" }>, raw: string): ts.Expression {
  const url = tpl(ctx, raw, ins.span, "ADD URL");
  if (templateRefs(url).length && !URL_RE.test(url) && !GIT_RE.test(url)) {
    throw new StrataError("STRATA_IMPORT_UNSUPPORTED", "ADD of a URL built from variables", { locations: [spanLocation(ctx, ins.span)] });
  }
  if (GIT_RE.test(url)) {
    const hash = url.indexOf("#");
    const base = hash >= 0 ? url.slice(0, hash) : url;
    const ref = hash >= 0 ? url.slice(hash + 1) : undefined;
    const opts = options([
      ["ref", ref ? tstr(ref) : undefined],
      ["keepGitDir", ins.keepGitDir ? bool(true) : undefined],
      ["checksum", ins.checksum ? str(ins.checksum) : undefined],
    ]);
    return coreCall(ctx, "git", opts ? [tstr(base), opts] : [tstr(base)]);
  }
  const checksum = ins.checksum ? (ins.checksum.startsWith("sha256:") ? str(ins.checksum) : castSha256(str(ins.checksum))) : undefined;
  const opts = options([["checksum", checksum]]);
  return coreCall(ctx, "http", opts ? [tstr(url), opts] : [tstr(url)]);
}
