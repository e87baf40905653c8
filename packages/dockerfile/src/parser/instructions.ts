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

export interface InstructionProblem {
  readonly code: string;
  readonly message: string;
  /** The flag word the problem is about, to point at its column. */
  readonly flag?: string;
  readonly hint?: string;
  readonly severity?: "error" | "warning";
}

export type TypedResult = { instruction: Instruction; problems: InstructionProblem[] } | { instruction?: undefined; problems: InstructionProblem[] };

/** BuildKit's nodeArgs: the values of the chain (a sub-command contributes its keyword and args). */
export function nodeArgs(node: MutableNode): string[] {
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

const err = (message: string, code = "DF_PARSE_INSTRUCTION", extra: Partial<InstructionProblem> = {}): InstructionProblem => ({ code, message, ...extra });

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
  const b = { ...base, flags: toRawFlags(node.flags) };
  const fail = (message: string, code?: string, extra?: Partial<InstructionProblem>): TypedResult => ({ problems: [...problems, err(message, code, extra)] });
  const cmdForm = (): CommandForm => (node.json ? { form: "exec", argv: args } : { form: "shell", script: args.join(" ") });

  switch (cmd) {
    case "env":
    case "label": {
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
      return { instruction: { ...b, kind: name as "ENV", pairs, legacy }, problems };
    }
    case "maintainer": {
      if (args.length !== 1) return fail("MAINTAINER requires exactly one argument");
      if (!withFlags(undefined)) return { problems };
      return { instruction: { ...b, kind: "MAINTAINER", maintainer: args[0]! }, problems };
    }
    case "add":
    case "copy": {
      const name = cmd.toUpperCase() as "ADD" | "COPY";
      if (args.length < 2) return fail(`${name} requires at least two arguments, but only one was provided. Destination could not be determined.`);
      const f = withFlags(FLAGS[cmd]);
      if (!f) return { problems };
      const dest = args[args.length - 1]!;
      if (!node.json && parseHeredocSafe(dest)) return fail(`${name} cannot accept a heredoc as a destination`);
      const byName = new Map<string, Heredoc>();
      for (const h of node.heredocs) byName.set(h.name, h);
      const sources: CopySource[] = [];
      for (const src of args.slice(0, -1)) {
        const h = node.json ? undefined : parseHeredocSafe(src);
        const doc = h ? byName.get(h.name) : undefined;
        if (h && doc) sources.push({ type: "heredoc", heredoc: doc });
        else sources.push({ type: "path", path: src });
      }
      const common = {
        ...b,
        sources,
        dest,
        heredocs: node.heredocs,
        json: node.json,
        link: f.bools.get("link") ?? false,
        exclude: f.lists.get("exclude") ?? [],
        ...opt("chown", f.strings.get("chown")),
        ...opt("chmod", f.strings.get("chmod")),
      };
      if (name === "COPY") {
        return { instruction: { ...common, kind: "COPY", parents: f.bools.get("parents") ?? false, ...opt("from", f.strings.get("from")) }, problems };
      }
      return {
        instruction: {
          ...common,
          kind: "ADD",
          ...opt("checksum", f.strings.get("checksum")),
          ...opt("keepGitDir", f.bools.get("keep-git-dir")),
          ...opt("unpack", f.bools.get("unpack")),
        },
        problems,
      };
    }
    case "from": {
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
      return {
        instruction: {
          ...b,
          kind: "FROM",
          image: args[0]!,
          ...opt("platform", f.strings.get("platform")),
          ...opt("stageName", stageName),
          ...opt("stageNameLower", stageName?.toLowerCase()),
          ...opt("asKeyword", asKeyword),
        },
        problems,
      };
    }
    case "onbuild": {
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
      return { instruction: { ...b, kind: "ONBUILD", expression, ...opt("instruction", instruction) }, problems };
    }
    case "workdir":
    case "user":
    case "stopsignal": {
      const name = cmd.toUpperCase();
      if (args.length !== 1) return fail(`${name} requires exactly one argument`);
      // BuildKit never checks STOPSIGNAL's flags.
      if (cmd !== "stopsignal" && !withFlags(undefined)) return { problems };
      if (cmd === "workdir") return { instruction: { ...b, kind: "WORKDIR", path: args[0]! }, problems };
      if (cmd === "user") return { instruction: { ...b, kind: "USER", user: args[0]! }, problems };
      return { instruction: { ...b, kind: "STOPSIGNAL", signal: args[0]! }, problems };
    }
    case "run": {
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
      return {
        instruction: {
          ...b,
          kind: "RUN",
          command: cmdForm(),
          heredocs: node.heredocs,
          mounts,
          devices: f.lists.get("device") ?? [],
          ...opt("network", network as "default" | "none" | "host" | undefined),
          ...opt("security", security as "sandbox" | "insecure" | undefined),
        },
        problems,
      };
    }
    case "cmd":
    case "entrypoint": {
      if (!withFlags(undefined)) return { problems };
      return { instruction: { ...b, kind: cmd === "cmd" ? "CMD" : "ENTRYPOINT", command: cmdForm() }, problems };
    }
    case "healthcheck": {
      if (args.length === 0) return fail("HEALTHCHECK requires at least one argument");
      const typ = args[0]!.toUpperCase();
      const rest = args.slice(1);
      if (typ === "NONE") {
        if (rest.length !== 0) return fail("HEALTHCHECK NONE takes no arguments");
        return { instruction: { ...b, kind: "HEALTHCHECK", type: "NONE" }, problems };
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
      return { instruction: { ...b, kind: "HEALTHCHECK", type: "CMD", command, ...durations, ...opt("retries", retries) }, problems };
    }
    case "expose": {
      if (args.length === 0) return fail("EXPOSE requires at least one argument");
      if (!withFlags(undefined)) return { problems };
      return { instruction: { ...b, kind: "EXPOSE", ports: args }, problems };
    }
    case "volume": {
      if (args.length === 0) return fail("VOLUME requires at least one argument");
      if (!withFlags(undefined)) return { problems };
      for (const v of args) if (v.trim() === "") return fail("VOLUME specified can not be an empty string");
      return { instruction: { ...b, kind: "VOLUME", paths: args.map((v) => v.trim()), json: node.json }, problems };
    }
    case "arg": {
      if (args.length === 0) return fail("ARG requires at least one argument");
      const list: { name: string; default?: string }[] = [];
      for (const a of args) {
        const eq = a.indexOf("=");
        if (eq === 0) return fail("ARG names can not be blank");
        list.push(eq < 0 ? { name: a } : { name: a.slice(0, eq), default: a.slice(eq + 1) });
      }
      return { instruction: { ...b, kind: "ARG", args: list }, problems };
    }
    case "shell": {
      if (!withFlags(undefined)) return { problems };
      if (args.length === 0) return fail("SHELL requires at least one argument");
      if (!node.json) return fail("SHELL requires the arguments to be in JSON form", "DF_PARSE_SHELL_NOT_JSON", { hint: 'Write it as a JSON array: SHELL ["/bin/sh", "-c"]' });
      return { instruction: { ...b, kind: "SHELL", shell: args }, problems };
    }
    default:
      return fail(`unknown instruction: ${cmd.toUpperCase()}`, "DF_PARSE_UNKNOWN_INSTRUCTION", { hint: suggestInstruction(cmd) });
  }
}

function parseHeredocSafe(word: string) {
  try {
    return parseHeredoc(word);
  } catch {
    return undefined;
  }
}

/** `{ [key]: value }` when value is defined (exactOptionalPropertyTypes). */
function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

const KNOWN = ["ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"];

function suggestInstruction(cmd: string): string {
  const near = suggest(cmd.toUpperCase(), KNOWN);
  return near ? `Did you mean ${near}?` : `Dockerfile instructions are: ${KNOWN.join(", ")}.`;
}
