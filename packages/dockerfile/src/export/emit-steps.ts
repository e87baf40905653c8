import {
  formatDuration,
  resolveLocation,
  StrataError,
  type Command,
  type ConfigEdit,
  type ExecOp,
  type FileAction,
  type FileOp,
  type HealthConfig,
  type Op,
  type Step,
  literalTemplate,
  templateLiteralValue,
} from "@strata/graph";
import { mountFlag, type InputNamer } from "./mount-flags.ts";
import type { SyntaxFeatures } from "./syntax.ts";
import { heredoc, jsonArray, word } from "./words.ts";

export interface EmitContext {
  readonly esc: string;
  readonly features: SyntaxFeatures;
  /** The `--from=` value for an op input (a stage name, an image reference, a named context), or undefined for the default context. */
  readonly nameInput: InputNamer;
  /** Records a named build context a copy or mount reads (name → path relative to the image file). */
  readonly useContext: (op: Op) => void;
  /** True when `RUN <script>` (a command line plus heredoc bodies) parses back to exactly `script`. */
  readonly reconstitutes: (script: string) => boolean;
  /**
   * `graph`: the Dockerfile must import back to the same graph. `image`: it must build the same
   * image, so a step may be spelled differently (see rewrite.ts).
   */
  readonly fidelity: "graph" | "image";
  /** Puts a file into the build context (image fidelity); returns the context directory holding it. */
  readonly addContextFile: (name: string, data: string, mode: number) => string;
  /** The SHELL of the current stage's base image (for shell-form RUN), or undefined when unknown. */
  readonly baseShell: () => readonly string[] | undefined;
}

const unsupported = (what: string, step: Step | undefined, hint?: string) =>
  new StrataError("STRATA_EXPORT_UNSUPPORTED", `${what} cannot be written as a Dockerfile`, {
    locations: [resolveLocation(step?.meta)],
    ...(hint ? { hint } : {}),
  });

/** The Dockerfile lines (one instruction, possibly with a heredoc body) for one step. */
export function emitStep(step: Step, ctx: EmitContext): string {
  const w = (t: string, what: string) => word(t, ctx.esc, what);
  const edits = (step.edits ?? []) as readonly ConfigEdit[];
  switch (step.instruction) {
    case "ARG": {
      // Global declarations in a step's scope belong before the first FROM (see globalArgs).
      const decls = (step.scope ?? []).filter((e): e is { arg: string; default?: string } => "arg" in e);
      return `ARG ${decls.map((a) => (a.default === undefined ? a.arg : `${a.arg}=${w(a.default, `ARG ${a.arg}`)}`)).join(" ")}`;
    }
    case "ENV": {
      const bad = edits.find((e) => e.edit !== "env");
      if (bad) throw unsupported("withoutEnv()", step, "remove the variable where it is set instead");
      return `ENV ${edits.map((e) => (e.edit === "env" ? `${e.name}=${w(e.value, `ENV ${e.name}`)}` : "")).join(" ")}`;
    }
    case "LABEL": {
      if (edits.some((e) => e.edit !== "label")) throw unsupported("withoutLabel()", step);
      return `LABEL ${edits.map((e) => (e.edit === "label" ? `${w(e.key, "LABEL key")}=${w(e.value, "LABEL value")}` : "")).join(" ")}`;
    }
    case "EXPOSE": {
      if (edits.some((e) => e.edit !== "expose")) throw unsupported("withoutExpose()", step);
      return `EXPOSE ${edits.map((e) => (e.edit === "expose" ? w(e.port, "EXPOSE") : "")).join(" ")}`;
    }
    case "VOLUME": {
      if (edits.some((e) => e.edit !== "volume")) throw unsupported("withoutVolume()", step);
      return `VOLUME ${edits.map((e) => (e.edit === "volume" ? w(e.path, "VOLUME") : "")).join(" ")}`;
    }
    case "WORKDIR": {
      const e = edits.find((x) => x.edit === "workdir");
      if (e?.edit !== "workdir") throw unsupported("this WORKDIR step", step);
      return `WORKDIR ${w(e.path, "WORKDIR")}`;
    }
    case "USER": {
      const e = edits[0];
      if (e?.edit !== "user") throw unsupported("this USER step", step);
      return `USER ${w(e.user, "USER")}`;
    }
    case "CMD":
    case "ENTRYPOINT": {
      const e = edits[0];
      if (!e || (e.edit !== "cmd" && e.edit !== "entrypoint")) throw unsupported(`this ${step.instruction} step`, step);
      return `${step.instruction} ${command(e.command, step)}`;
    }
    case "HEALTHCHECK": {
      const e = edits[0];
      if (e?.edit !== "healthcheck") throw unsupported("this HEALTHCHECK step", step);
      return healthcheck(e.check, step, ctx);
    }
    case "STOPSIGNAL": {
      const e = edits[0];
      if (e?.edit !== "stopSignal") throw unsupported("this STOPSIGNAL step", step);
      return `STOPSIGNAL ${w(e.signal, "STOPSIGNAL")}`;
    }
    case "SHELL": {
      const e = edits[0];
      if (e?.edit !== "shell") throw unsupported("this SHELL step", step);
      return `SHELL ${jsonArray(e.shell)}`;
    }
    case "ONBUILD": {
      const e = edits[0];
      if (e?.edit !== "onbuild") throw unsupported("this ONBUILD step", step);
      // Multi-line only as an instruction followed by its heredoc bodies, which reads back the same.
      if (e.instruction.includes("\n") && !ctx.features.heredoc) throw unsupported("a multi-line ONBUILD instruction", step);
      return `ONBUILD ${e.instruction}`;
    }
    case "MAINTAINER": {
      const e = edits[0];
      if (e?.edit !== "author") throw unsupported("this MAINTAINER step", step);
      if (e.author.includes("\n")) throw unsupported("a multi-line author", step);
      return `MAINTAINER ${e.author}`;
    }
    case "RUN":
      return run(step.op as ExecOp, step, ctx);
    case "COPY":
    case "ADD":
      return copy(step.instruction, step.op as FileOp, step, ctx);
    case "MERGE":
      throw unsupported("a filesystem merge", step);
  }
}

function command(c: Command, step: Step): string {
  if (c.form === "exec") return jsonArray(c.argv);
  if (c.script.includes("\n")) throw unsupported("a shell-form command with a newline", step, "use exec form (an array)");
  if (readsAsJson(c.script)) throw unsupported("a shell-form command that is a JSON array", step, "it would read as exec form; use an array");
  return c.script;
}

/** Dockerfile parsers take an argument that parses as a JSON array as exec form. */
function readsAsJson(script: string): boolean {
  if (!/^\s*\[/.test(script)) return false;
  try {
    return Array.isArray(JSON.parse(script));
  } catch {
    return false;
  }
}

function healthcheck(h: HealthConfig, step: Step, ctx: EmitContext): string {
  if (h.Test[0] === "NONE") return "HEALTHCHECK NONE";
  const flags: string[] = [];
  if (h.Interval) flags.push(`--interval=${formatDuration(h.Interval)}`);
  if (h.Timeout) flags.push(`--timeout=${formatDuration(h.Timeout)}`);
  if (h.StartPeriod) flags.push(`--start-period=${formatDuration(h.StartPeriod)}`);
  if (h.StartInterval) {
    if (!ctx.features.startInterval) throw unsupported("HEALTHCHECK --start-interval", step);
    flags.push(`--start-interval=${formatDuration(h.StartInterval)}`);
  }
  if (h.Retries) flags.push(`--retries=${h.Retries}`);
  const cmd = h.Test[0] === "CMD-SHELL" ? command({ form: "shell", script: h.Test[1] ?? "" }, step) : jsonArray(h.Test.slice(1));
  return `HEALTHCHECK ${flags.map((f) => `${f} `).join("")}CMD ${cmd}`;
}

function run(op: ExecOp, step: Step, ctx: EmitContext): string {
  const pipe = shebangScript(op);
  if (!pipe) return runLine(op, step, ctx, []);
  const rest = { ...op, mounts: op.mounts.filter((m) => m !== pipe.mount) };
  if (!ctx.features.heredoc) {
    if (ctx.fidelity !== "image") throw unsupported("run(script(…)) (a heredoc with #!)", step);
    // The same program at the same path: the script is a file of the build context, bind-mounted read-only.
    const dir = ctx.addContextFile(pipe.name, pipe.content, 0o755);
    return runLine(rest, step, ctx, [`--mount=type=bind,source=${dir},target=/dev/pipes/`]);
  }
  const h = heredoc(pipe.content, pipe.name);
  if (!h || h.delimiter !== pipe.name) throw unsupported("this script (its content must end with a newline; its name must be a heredoc word)", step);
  const line = runLine(rest, step, ctx, []).replace(/\["\/dev\/pipes\/[^"]*"\]$/, "");
  return `${line}<<${quoteDelimiter(h.delimiter, pipe.content)}\n${h.body}${h.delimiter}`;
}

function runLine(op: ExecOp, step: Step, ctx: EmitContext, extraFlags: readonly string[]): string {
  const flags = [
    ...extraFlags,
    ...op.mounts.map((m) => {
      if ("input" in m && m.input !== undefined) ctx.useContext(op.inputs[m.input]!);
      return mountFlag(op, m, ctx.esc, ctx.nameInput, ctx.features);
    }),
  ];
  if (op.network) {
    if (!ctx.features.network) throw unsupported(`RUN --network=${op.network}`, step, "use a newer Dockerfile syntax (--syntax latest) where the engine supports it");
    flags.push(`--network=${op.network}`);
  }
  if (op.security) {
    if (!ctx.features.security) throw unsupported(`RUN --security=${op.security}`, step, "use a newer Dockerfile syntax (--syntax latest) where the engine supports it");
    flags.push(`--security=${op.security}`);
  }
  const prefix = `RUN ${flags.map((f) => `${f} `).join("")}`;
  const c = op.command;
  if (c.form === "exec") return `${prefix}${jsonArray(c.argv)}`;
  try {
    return `${prefix}${shellFormScript(c.script, step, ctx)}`;
  } catch (e) {
    if (ctx.fidelity !== "image") throw e;
    // Shell form runs `[...SHELL, script]`; exec form with that argv runs the same process.
    const shell = op.shell ?? ctx.baseShell();
    if (!shell) throw unsupported("a multi-line script (this Dockerfile syntax has no heredocs)", step, "the base image's SHELL is unknown, so it cannot be written in exec form; give the stage a shell(…) or use a newer syntax");
    return `${prefix}${jsonArray([...shell, c.script])}`;
  }
}

/** The text after `RUN [flags]` for a shell-form script that reads back as exactly this script. */
function shellFormScript(script: string, step: Step, ctx: EmitContext): string {
  if (!script.includes("\n")) {
    if (readsAsJson(script)) throw unsupported("a shell-form RUN that is a JSON array", step, "use exec form (an array)");
    return script;
  }
  const h = ctx.features.heredoc ? heredoc(script) : undefined;
  // A script that is a command line followed by heredoc bodies (`python3 <<EOF …`) is written back as it was.
  if (!h && ctx.features.heredoc && ctx.reconstitutes(script)) return script;
  if (!h) {
    throw unsupported(
      ctx.features.heredoc ? "a multi-line script that does not end with a newline" : "a multi-line script (this Dockerfile syntax has no heredocs)",
      step,
      ctx.features.heredoc ? "end the script with a newline so it can be a heredoc" : "use the latest Dockerfile syntax, or join the lines with &&",
    );
  }
  return `<<${h.delimiter}\n${h.body}${h.delimiter}`;
}

function copy(instruction: "COPY" | "ADD", op: FileOp, step: Step, ctx: EmitContext): string {
  const a = op.actions[0];
  if (op.actions.length !== 1 || a?.action !== "copy") throw unsupported(`this ${instruction} step`, step);
  const src = op.inputs[a.from]!;
  const flags: string[] = [];
  const w = (t: string, what: string) => word(t, ctx.esc, what);
  const inline = inlineFile(src);
  let sources: string[];
  let body = "";
  const h = inline && ctx.features.heredoc ? heredoc(inline.data, inline.name) : undefined;
  if (inline && h && h.delimiter === inline.name && inline.mode === 0o644) {
    // An expanding file's data is a canonical template, which is exactly how an unquoted heredoc spells it.
    sources = [inline.expand ? `<<${h.delimiter}` : `<<${quoteDelimiter(h.delimiter, inline.data)}`];
    body = `\n${h.body}${h.delimiter}`;
  } else if (inline) {
    if (ctx.fidelity !== "image") {
      if (!ctx.features.heredoc) throw unsupported("copying inline file content (heredoc)", step);
      throw unsupported("this inline file (its content must end with a newline; its name must be a heredoc word)", step);
    }
    // The same bytes and mode as a file of the build context: COPY gives it the same owner (0:0).
    const data = inline.expand ? templateLiteralValue(inline.data) : inline.data;
    if (data === undefined) throw unsupported("an inline file that reads build args or env vars (expand: true) without heredocs", step, "use a newer Dockerfile syntax, or write the value into the file in a run() step");
    sources = [w(literalTemplate(`${ctx.addContextFile(inline.name, data, inline.mode)}/${inline.name}`), `${instruction} source`)];
  } else if (src.kind === "SourceOp" && (src.source.type === "http" || src.source.type === "git")) {
    if (instruction !== "ADD") throw unsupported(`COPY of a ${src.source.type} source`, step, "use add()");
    const s = src.source;
    if (s.type === "http") {
      if (s.filename) throw unsupported("http(…, { filename })", step);
      if (s.checksum) {
        if (!ctx.features.checksum) throw unsupported("ADD --checksum", step);
        flags.push(`--checksum=${s.checksum}`);
      }
      sources = [w(s.url, "ADD URL")];
    } else {
      if (s.checksum) {
        if (!ctx.features.checksum) throw unsupported("ADD --checksum", step);
        flags.push(`--checksum=${s.checksum}`);
      }
      sources = [w(s.ref ? `${s.url}#${s.ref}` : s.url, "ADD git URL")];
    }
    if (a.src.length !== 1 || a.src[0] !== ".") throw unsupported("a sub-path of a download", step);
  } else {
    const from = ctx.nameInput(op, a.from, instruction);
    if (from !== undefined) flags.push(`--from=${from}`);
    ctx.useContext(src);
    sources = a.src.map((s) => w(s, `${instruction} source`));
  }
  if (a.chown !== undefined) flags.push(`--chown=${w(a.chown, "--chown")}`);
  if (a.chmod !== undefined) {
    if (!/^[0-7]+$/.test(a.chmod) && !ctx.features.symbolicChmod) throw unsupported(`a symbolic --chmod (${a.chmod})`, step, "give the mode in octal, e.g. chmod: 0o755");
    if (/^[0-7]+$/.test(a.chmod) && Number.parseInt(a.chmod, 8) > 0o777 && !ctx.features.chmodSpecialBits) {
      throw unsupported(`--chmod=${a.chmod} (setuid, setgid or sticky bits)`, step, "this engine drops those bits; set them in a run() step, or use a newer syntax");
    }
    flags.push(`--chmod=${a.chmod}`);
  }
  if (a.link) {
    // On an empty base a linked and a plain copy write the same layer (no directory to inherit, no symlink to follow).
    if (ctx.features.link) flags.push("--link");
    else if (ctx.fidelity !== "image" || !onEmptyBase(op)) throw unsupported(`${instruction} --link`, step, "this Dockerfile syntax has no --link; drop link: true, or use a newer syntax");
  }
  if (a.parents) {
    if (!ctx.features.parents) throw unsupported(`${instruction} --parents`, step);
    flags.push("--parents");
  }
  for (const x of a.exclude ?? []) {
    if (!ctx.features.exclude) throw unsupported(`${instruction} --exclude`, step);
    flags.push(`--exclude=${w(x, "--exclude")}`);
  }
  if (a.keepGitDir) {
    if (!ctx.features.keepGitDir) throw unsupported("ADD --keep-git-dir", step);
    flags.push("--keep-git-dir=true");
  }
  if (a.unpack !== undefined) {
    if (!ctx.features.unpack) throw unsupported("ADD --unpack", step);
    flags.push(`--unpack=${a.unpack}`);
  }
  if (a.add && instruction !== "ADD") throw unsupported("COPY with ADD semantics", step);
  const dest = w(a.dest, `${instruction} destination`);
  const args = [...sources, dest];
  const head = `${instruction} ${flags.map((f) => `${f} `).join("")}`;
  // Shell form splits arguments on whitespace before any quote processing: paths with spaces need JSON form.
  if (!inline && args.some((x) => /\s/.test(x))) return `${head}${jsonArray(args)}`;
  return `${head}${args.join(" ")}${body}`;
}

/** The copy's base filesystem is empty (scratch). */
function onEmptyBase(op: FileOp): boolean {
  const base = op.inputs[0];
  if (base?.kind !== "SourceOp") return false;
  const s = base.source;
  return s.type === "scratch" || (s.type === "image" && !s.transport && s.ref === "scratch");
}

/** A scratch filesystem holding one file made by file(): what a COPY heredoc reads. */
function inlineFile(op: Op): { name: string; data: string; mode: number; expand: boolean } | undefined {
  if (op.kind !== "FileOp" || op.actions.length !== 1) return undefined;
  const base = op.inputs[0];
  const a = op.actions[0] as FileAction;
  if (base?.kind !== "SourceOp" || base.source.type !== "scratch" || a.action !== "mkfile") return undefined;
  return { name: a.path.replace(/^\//, ""), data: a.data, mode: a.mode ?? 0o644, expand: a.expand === true };
}

/** A literal heredoc body containing `$` or `\` gets a quoted delimiter, so BuildKit does not expand it. */
function quoteDelimiter(name: string, content: string): string {
  return /[$\\]/.test(content) ? `"${name}"` : name;
}

/** run(script(…)): exec of /dev/pipes/<name> with the script's file bind-mounted there. */
function shebangScript(op: ExecOp): { name: string; content: string; mount: ExecOp["mounts"][number] } | undefined {
  const c = op.command;
  if (c.form !== "exec" || c.argv.length !== 1 || !c.argv[0]!.startsWith("/dev/pipes/")) return undefined;
  const mount = op.mounts.find((m) => m.type === "bind" && m.target === "/dev/pipes/" && m.source === "/" && m.input !== undefined);
  if (mount?.type !== "bind") return undefined;
  const f = inlineFile(op.inputs[mount.input!]!);
  if (f?.mode !== 0o755 || `/dev/pipes/${f.name}` !== c.argv[0]) return undefined;
  return { name: f.name, content: f.data, mount };
}
