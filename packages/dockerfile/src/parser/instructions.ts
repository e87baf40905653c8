import type { ErrorCode } from "@strata/graph";
/**
 * Raw node → typed instruction (BuildKit's `instructions.ParseInstruction`): argument counts,
 * flags, the JSON/shell form, heredoc sources. Problems are returned as messages; the caller
 * turns them into diagnostics with the instruction's span.
 */
import { parseFlags, suggest, toRawFlags, type FlagSpec, type ParsedFlags } from "./flags.ts";
import { parseGoDuration } from "./go-duration.ts";
import type { MutableNode } from "./line-parsers.ts";
import { parseMount } from "./mounts.ts";
import { parseHeredoc } from "./raw-parser.ts";
import type {
  CommandForm,
  CopySource,
  Duration,
  Heredoc,
  Instruction,
  InstructionBase,
  KeyValue,
  ParsedMount,
} from "./types.ts";

interface InstructionProblem {
  readonly code: ErrorCode;
  readonly message: string;
  /** The flag word the problem is about, to point at its column. */
  readonly flag?: string;
  readonly hint?: string;
  readonly severity?: "error" | "warning";
}

export type TypedResult = { instruction: Instruction; problems: InstructionProblem[] } | { instruction?: undefined; problems: InstructionProblem[] };

/** BuildKit's nodeArgs: the values of the chain (a sub-command contributes its keyword and args). */
function nodeArgs(node: MutableNode): string[] {
  const out: string[] = [];
  for (const n of node.next) {
    if (n.children.length === 0) out.push(n.value);
    else if (n.children.length === 1) {
      out.push(n.children[0]!.value, ...nodeArgs(n.children[0]!));
    }
  }
  return out;
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

const FLAGS: Record<string, FlagSpec> = {
  from: { platform: "string" },
  copy: { from: "string", chown: "string", chmod: "string", link: "bool", parents: "bool", exclude: "strings" },
  add: { chown: "string", chmod: "string", link: "bool", "keep-git-dir": "bool", checksum: "string", exclude: "strings", unpack: "bool" },
  run: { mount: "strings", network: "string", security: "string", device: "strings" },
  healthcheck: { interval: "string", timeout: "string", "start-period": "string", "start-interval": "string", retries: "string" },
};

const err = (message: string, code: ErrorCode = "DF_PARSE_INSTRUCTION", extra: Partial<InstructionProblem> = {}): InstructionProblem => ({ code, message, ...extra });

/**
 * `base` carries span/raw/comments; `keyword` is how the instruction was written.
 */
export function typeInstruction(node: MutableNode, base: Omit<InstructionBase, "flags">): TypedResult {
  const cmd = node.value;
  const args = nodeArgs(node);
  const problems: InstructionProblem[] = [];
  const withFlags = (spec: FlagSpec | undefined): ParsedFlags | undefined => {
    const f = parseFlags(node.flags, spec ?? {});
    if (f.error) {
      problems.push(err(f.error.message, f.error.message.startsWith("unknown flag") ? "DF_PARSE_UNKNOWN_FLAG" : "DF_PARSE_BAD_FLAG", { flag: f.error.flag }));
      return undefined;
    }
    return f;
  };
  // An explicit literal, not a spread: this runs for every instruction and spreads are slow here.
  const b = { span: base.span, raw: base.raw, original: base.original, keyword: base.keyword, flags: toRawFlags(node.flags), comments: base.comments };
  const fail = (message: string, code?: ErrorCode, extra?: Partial<InstructionProblem>): TypedResult => ({ problems: [...problems, err(message, code, extra)] });
  const cmdForm = (): CommandForm => (node.json ? { form: "exec", argv: args } : { form: "shell", script: args.join(" ") });

  const typer = Object.hasOwn(TYPERS, cmd) ? TYPERS[cmd]! : typeDefault;
  return typer({ node, args, problems, withFlags, b, fail, cmdForm, cmd, base });
}

interface Ctx {
  readonly node: MutableNode;
  readonly args: string[];
  readonly problems: InstructionProblem[];
  readonly withFlags: (spec: FlagSpec | undefined) => ParsedFlags | undefined;
  readonly b: Omit<InstructionBase, never>;
  readonly fail: (message: string, code?: ErrorCode, extra?: Partial<InstructionProblem>) => TypedResult;
  readonly cmdForm: () => CommandForm;
  readonly cmd: string;
  readonly base: Omit<InstructionBase, "flags">;
}

function typeEnv(c: Ctx): TypedResult {
  const { args, problems, withFlags, b, fail, cmd } = c;
  const name = cmd.toUpperCase();
  if (!withFlags(undefined)) return { problems };
  if (args.length === 0) return fail(`${name} requires at least one argument`);
  const pairs: KeyValue[] = [];
  for (let j = 0; j + 2 < args.length + 1; j += 3) {
    const key = args[j]!;
    if (key.length === 0) return fail(`${name} names can not be blank`);
    pairs.push({ key, value: args[j + 1] ?? "" });
  }
  const legacy = args[2] === "";
  return { instruction: { kind: name as "ENV", span: b.span, raw: b.raw, original: b.original, keyword: b.keyword, flags: b.flags, comments: b.comments, pairs, legacy }, problems };
}

function typeMaintainer(c: Ctx): TypedResult {
  const { args, problems, withFlags, b, fail } = c;
  if (args.length !== 1) return fail("MAINTAINER requires exactly one argument");
  if (!withFlags(undefined)) return { problems };
  return { instruction: { kind: "MAINTAINER", span: b.span, raw: b.raw, original: b.original, keyword: b.keyword, flags: b.flags, comments: b.comments, maintainer: args[0]! }, problems };
}

function typeAdd(c: Ctx): TypedResult {
  const { node, args, problems, withFlags, b, fail, cmd } = c;
  const name = cmd.toUpperCase() as "ADD" | "COPY";
  if (args.length < 2) return fail(`${name} requires at least two arguments, but only one was provided. Destination could not be determined.`);
  const f = withFlags(FLAGS[cmd]);
  if (!f) return { problems };
  const dest = args[args.length - 1]!;
  if (!node.json && parseHeredocSafe(dest)) return fail(`${name} cannot accept a heredoc as a destination`);
  const docs = node.heredocs;
  const sources: CopySource[] = [];
  for (const src of args.slice(0, -1)) {
    const h = node.json ? undefined : parseHeredocSafe(src);
    const doc = h ? findHeredoc(docs, h.name) : undefined;
    if (h && doc) sources.push({ type: "heredoc", heredoc: doc });
    else sources.push({ type: "path", path: src });
  }
  const link = f.bools.get("link") ?? false;
  const exclude = f.lists.get("exclude") ?? [];
  const { heredocs, json } = node;
  const owner = { chown: f.strings.get("chown"), chmod: f.strings.get("chmod") };
  if (name === "COPY") {
    const copy = { kind: "COPY" as const, span: b.span, raw: b.raw, original: b.original, keyword: b.keyword, flags: b.flags, comments: b.comments, sources, dest, heredocs, json, link, exclude, parents: f.bools.get("parents") ?? false };
    return { instruction: withOpt(copy, { ...owner, from: f.strings.get("from") }), problems };
  }
  const add = { kind: "ADD" as const, span: b.span, raw: b.raw, original: b.original, keyword: b.keyword, flags: b.flags, comments: b.comments, sources, dest, heredocs, json, link, exclude };
  const extra = { ...owner, checksum: f.strings.get("checksum"), keepGitDir: f.bools.get("keep-git-dir"), unpack: f.bools.get("unpack") };
  return { instruction: withOpt(add, extra), problems };
}

function typeFrom(c: Ctx): TypedResult {
  const { args, problems, withFlags, b, fail } = c;
  let stageName: string | undefined;
  let asKeyword: string | undefined;
  if (args.length === 3 && args[1]!.toLowerCase() === "as") {
    stageName = args[2]!;
    asKeyword = args[1]!;
    if (!STAGE_NAME.test(stageName.toLowerCase())) {
      return fail(`invalid name for build stage: ${JSON.stringify(stageName)}, name can't start with a number or contain symbols`, "DF_PARSE_STAGE_NAME");
    }
  } else if (args.length !== 1) return fail("FROM requires either one or three arguments");
  const f = withFlags(FLAGS.from);
  if (!f) return { problems };
  const from = { kind: "FROM" as const, span: b.span, raw: b.raw, original: b.original, keyword: b.keyword, flags: b.flags, comments: b.comments, image: args[0]! };
  const extra = { platform: f.strings.get("platform"), stageName, stageNameLower: stageName?.toLowerCase(), asKeyword };
  return { instruction: withOpt(from, extra), problems };
}

function typeOnbuild(c: Ctx): TypedResult {
  const { node, args, problems, withFlags, b, fail, base } = c;
  if (args.length === 0) return fail("ONBUILD requires at least one argument");
  if (!withFlags(undefined)) return { problems };
  const trigger = args[0]!.trim().toUpperCase();
  if (trigger === "ONBUILD") return fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (trigger === "MAINTAINER" || trigger === "FROM") return fail(`${trigger} isn't allowed as an ONBUILD trigger`);
  const child = node.next[0]?.children[0];
  const expression = node.original.replace(/^\s*ONBUILD\s*/i, "");
  let instruction: Instruction | undefined;
  if (child) {
    const childRaw = child.original;
    const sub = typeInstruction(
      { ...child, heredocs: node.heredocs },
      { ...base, raw: base.raw, original: childRaw, keyword: childRaw.trimStart().split(/\s/, 1)[0] ?? "", comments: [] },
    );
    problems.push(...sub.problems);
    instruction = sub.instruction;
    if (!instruction) return { problems };
  }
  return { instruction: { kind: "ONBUILD", span: b.span, raw: b.raw, original: b.original, keyword: b.keyword, flags: b.flags, comments: b.comments, expression, ...opt("instruction", instruction) }, problems };
}

function typeWorkdir(c: Ctx): TypedResult {
  const { args, problems, withFlags, b, fail, cmd } = c;
  const name = cmd.toUpperCase();
  if (args.length !== 1) return fail(`${name} requires exactly one argument`);
  // BuildKit never checks STOPSIGNAL's flags.
  if (cmd !== "stopsignal" && !withFlags(undefined)) return { problems };
  if (cmd === "workdir") return { instruction: { kind: "WORKDIR", span: b.span, raw: b.raw, original: b.original, keyword: b.keyword, flags: b.flags, comments: b.comments, path: args[0]! }, problems };
  if (cmd === "user") return { instruction: { kind: "USER", span: b.span, raw: b.raw, original: b.original, keyword: b.keyword, flags: b.flags, comments: b.comments, user: args[0]! }, problems };
  return { instruction: { kind: "STOPSIGNAL", span: b.span, raw: b.raw, original: b.original, keyword: b.keyword, flags: b.flags, comments: b.comments, signal: args[0]! }, problems };
}

function typeRun(c: Ctx): TypedResult {
  const { node, args, problems, withFlags, b, fail, cmdForm } = c;
  const f = withFlags(FLAGS.run);
  if (!f) return { problems };
  const mounts: ParsedMount[] = [];
  for (const m of f.lists.get("mount") ?? []) {
    const r = parseMount(m);
    if ("error" in r) return fail(r.error, "DF_PARSE_MOUNT", { flag: `--mount=${m}` });
    mounts.push(r.mount);
  }
  const network = f.strings.get("network");
  if (network !== undefined && network !== "default" && network !== "none" && network !== "host") {
    return fail(`unsupported network mode ${JSON.stringify(network)}`, "DF_PARSE_BAD_FLAG", { flag: `--network=${network}` });
  }
  const security = f.strings.get("security");
  if (security !== undefined && security !== "sandbox" && security !== "insecure") {
    return fail(`unsupported security mode ${JSON.stringify(security)}`, "DF_PARSE_BAD_FLAG", { flag: `--security=${security}` });
  }
  if (node.json && args.length === 0) return fail("RUN: arguments are required (an empty JSON array runs nothing)");
  const run = { kind: "RUN" as const, span: b.span, raw: b.raw, original: b.original, keyword: b.keyword, flags: b.flags, comments: b.comments, command: cmdForm(), heredocs: node.heredocs, mounts, devices: f.lists.get("device") ?? [] };
  const extra = { network: network as "default" | "none" | "host" | undefined, security: security as "sandbox" | "insecure" | undefined };
  return { instruction: withOpt(run, extra), problems };
}

function typeCmd(c: Ctx): TypedResult {
  const { problems, withFlags, b, cmdForm, cmd } = c;
  if (!withFlags(undefined)) return { problems };
  return { instruction: { kind: cmd === "cmd" ? "CMD" : "ENTRYPOINT", span: b.span, raw: b.raw, original: b.original, keyword: b.keyword, flags: b.flags, comments: b.comments, command: cmdForm() }, problems };
}

function typeHealthcheck(c: Ctx): TypedResult {
  const { node, args, problems, withFlags, b, fail } = c;
  if (args.length === 0) return fail("HEALTHCHECK requires at least one argument");
  const typ = args[0]!.toUpperCase();
  const rest = args.slice(1);
  if (typ === "NONE") {
    if (rest.length !== 0) return fail("HEALTHCHECK NONE takes no arguments");
    return { instruction: { kind: "HEALTHCHECK", span: b.span, raw: b.raw, original: b.original, keyword: b.keyword, flags: b.flags, comments: b.comments, type: "NONE" }, problems };
  }
  const f = withFlags(FLAGS.healthcheck);
  if (!f) return { problems };
  if (typ !== "CMD") return fail(`Unknown type ${JSON.stringify(typ)} in HEALTHCHECK (try CMD)`);
  if (rest.length === 0 || (!node.json && rest.join(" ") === "")) return fail("Missing command after HEALTHCHECK CMD");
  const durations: Record<string, Duration> = {};
  for (const [flag, key] of [
    ["interval", "interval"],
    ["timeout", "timeout"],
    ["start-period", "startPeriod"],
    ["start-interval", "startInterval"],
  ] as const) {
    const v = f.strings.get(flag);
    if (v === undefined || v === "") continue;
    const d = parseGoDuration(v);
    if ("error" in d) return fail(d.error, "DF_PARSE_BAD_FLAG", { flag: `--${flag}=${v}` });
    if (d.ns < 1e6 && d.ns !== 0) return fail(`Interval ${JSON.stringify(flag)} cannot be less than 1ms`, "DF_PARSE_BAD_FLAG", { flag: `--${flag}=${v}` });
    durations[key] = { raw: v, nanoseconds: d.ns };
  }
  let retries: number | undefined;
  const r = f.strings.get("retries");
  if (r !== undefined && r !== "") {
    if (!/^[+-]?[0-9]+$/.test(r) || Math.abs(Number(r)) > 2147483647) return fail(`strconv.ParseInt: parsing ${JSON.stringify(r)}: invalid syntax`, "DF_PARSE_BAD_FLAG", { flag: `--retries=${r}` });
    retries = Number(r);
    if (retries < 0) return fail(`--retries cannot be negative (${retries})`, "DF_PARSE_BAD_FLAG", { flag: `--retries=${r}` });
  }
  const command: CommandForm = node.json ? { form: "exec", argv: rest } : { form: "shell", script: rest.join(" ") };
  return { instruction: { kind: "HEALTHCHECK", span: b.span, raw: b.raw, original: b.original, keyword: b.keyword, flags: b.flags, comments: b.comments, type: "CMD", command, ...durations, ...opt("retries", retries) }, problems };
}

function typeExpose(c: Ctx): TypedResult {
  const { args, problems, withFlags, b, fail } = c;
  if (args.length === 0) return fail("EXPOSE requires at least one argument");
  if (!withFlags(undefined)) return { problems };
  return { instruction: { kind: "EXPOSE", span: b.span, raw: b.raw, original: b.original, keyword: b.keyword, flags: b.flags, comments: b.comments, ports: args }, problems };
}

function typeVolume(c: Ctx): TypedResult {
  const { node, args, problems, withFlags, b, fail } = c;
  if (args.length === 0) return fail("VOLUME requires at least one argument");
  if (!withFlags(undefined)) return { problems };
  for (const v of args) if (v.trim() === "") return fail("VOLUME specified can not be an empty string");
  return { instruction: { kind: "VOLUME", span: b.span, raw: b.raw, original: b.original, keyword: b.keyword, flags: b.flags, comments: b.comments, paths: args.map((v) => v.trim()), json: node.json }, problems };
}

function typeArg(c: Ctx): TypedResult {
  const { args, problems, b, fail } = c;
  if (args.length === 0) return fail("ARG requires at least one argument");
  const list: { name: string; default?: string }[] = [];
  for (const a of args) {
    const eq = a.indexOf("=");
    if (eq === 0) return fail("ARG names can not be blank");
    list.push(eq < 0 ? { name: a } : { name: a.slice(0, eq), default: a.slice(eq + 1) });
  }
  return { instruction: { kind: "ARG", span: b.span, raw: b.raw, original: b.original, keyword: b.keyword, flags: b.flags, comments: b.comments, args: list }, problems };
}

function typeShell(c: Ctx): TypedResult {
  const { node, args, problems, withFlags, b, fail } = c;
  if (!withFlags(undefined)) return { problems };
  if (args.length === 0) return fail("SHELL requires at least one argument");
  if (!node.json) return fail("SHELL requires the arguments to be in JSON form", "DF_PARSE_SHELL_NOT_JSON", { hint: 'Write it as a JSON array: SHELL ["/bin/sh", "-c"]' });
  return { instruction: { kind: "SHELL", span: b.span, raw: b.raw, original: b.original, keyword: b.keyword, flags: b.flags, comments: b.comments, shell: args }, problems };
}

function typeDefault(c: Ctx): TypedResult {
  const { fail, cmd } = c;
  return fail(`unknown instruction: ${cmd.toUpperCase()}`, "DF_PARSE_UNKNOWN_INSTRUCTION", { hint: suggestInstruction(cmd) });
}

const TYPERS: Record<string, (c: Ctx) => TypedResult> = {
  env: typeEnv,
  label: typeEnv,
  maintainer: typeMaintainer,
  add: typeAdd,
  copy: typeAdd,
  from: typeFrom,
  onbuild: typeOnbuild,
  workdir: typeWorkdir,
  user: typeWorkdir,
  stopsignal: typeWorkdir,
  run: typeRun,
  cmd: typeCmd,
  entrypoint: typeCmd,
  healthcheck: typeHealthcheck,
  expose: typeExpose,
  volume: typeVolume,
  arg: typeArg,
  shell: typeShell,
};

function parseHeredocSafe(word: string) {
  try {
    return parseHeredoc(word);
  } catch {
    return undefined;
  }
}

/** `{ [key]: value }` when value is defined (exactOptionalPropertyTypes). */
/** Adds the defined entries of `extras` to `o` (exactOptionalPropertyTypes: no `key: undefined`). */
function withOpt<T extends object, E extends object>(o: T, extras: E): T & { [K in keyof E]?: Exclude<E[K], undefined> } {
  const out = o as Record<string, unknown>;
  for (const k in extras) {
    const v = (extras as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return o as T & { [K in keyof E]?: Exclude<E[K], undefined> };
}

const NONE = Object.freeze({});
function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? NONE : { [key]: value }) as { [P in K]?: V };
}

const KNOWN = ["ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"];

function suggestInstruction(cmd: string): string {
  const near = suggest(cmd.toUpperCase(), KNOWN);
  return near ? `Did you mean ${near}?` : `Dockerfile instructions are: ${KNOWN.join(", ")}.`;
}

function findHeredoc(docs: readonly Heredoc[], name: string): Heredoc | undefined {
  for (let k = docs.length - 1; k >= 0; k--) if (docs[k]!.name === name) return docs[k];
  return undefined;
}
