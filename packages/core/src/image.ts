import {
  checkStopSignal,
  createGraph,
  ExecOp,
  FileOp,
  narrowScope,
  StrataError,
  templateRefs,
  type ConfigEdit,
  type Digest,
  type Command,
  type FileAction,
  type ImageDefinition,
  type Instruction,
  type LayerGraph,
  type Mount,
  type Op,
  type Scope,
  type ScopeEntry,
  type Step,
} from "@strata/graph";
import { argEntry, isArg, type Arg, type ArgValue } from "./arg.ts";
import { captureCallsite } from "./callsite.ts";
import { createdBy } from "./created-by.ts";
import { isRunMount, type RunMount } from "./mounts.ts";
import { healthConfig, modeString, ownerTemplate, portTemplate, toCommand, tpl } from "./normalize.ts";
import type { ShellCommand } from "./shell-command.ts";
import { inlineFileIn, isInlineFile, isScript, scriptOp, type Script } from "./inline-file.ts";
import { defaultContextFiles, imagePaths, isCopyFrom, type CopyFrom } from "./sources.ts";
import type { AddOptions, CheckPorts, CopyOptions, HealthcheckOptions, Owner, Port, RunOptions, Signal } from "./types.ts";

const IMAGE_BRAND = Symbol.for("strata.image");

/** A source for copy/add: a context path (string), selected files, another image's paths, a download. */
export type CopySource = string | CopyFrom | Image;

/**
 * An image definition. Every method returns a new, frozen Image; nothing is read, pulled or
 * hashed until something compiles it (`toGraph()`, a build, an export).
 */
export interface Image {
  readonly [IMAGE_BRAND]: true;

  /**
   * Runs a command: a string runs through the image's shell, an array runs as-is (exec form),
   * a script() runs as a program (its `#!` line picks the interpreter).
   */
  run(command: string | readonly string[] | Script, options?: RunOptions): Image;
  /** Copies files from the context (a string path or glob), a Directory, another image's paths, or a file(). */
  copy(src: CopySource | readonly CopySource[], dest: string, options?: CopyOptions): Image;
  /** Like copy, and also unpacks local tar archives and reads http()/git() sources, as Dockerfile ADD. */
  add(src: CopySource | readonly CopySource[], dest: string, options?: AddOptions): Image;

  /**
   * Sets environment variables, for later steps and in the image's config (Dockerfile
   * `ENV A=1 B=2`). Values may read variables and args (`$PATH`, `${A}`, an Arg); several set in
   * one call all read the environment before it, as in one ENV instruction.
   *
   * @example
   * base.env({ NODE_ENV: "production", PATH: "/app/bin:$PATH" })
   */
  env(vars: Readonly<Record<string, string | number | Arg<ArgValue>>>): Image;
  /**
   * Sets one environment variable, for later steps and in the image's config (Dockerfile `ENV NAME=value`).
   *
   * @example
   * base.env("PORT", 8080)
   */
  env(name: string, value: string | number | Arg<ArgValue>): Image;
  /** Declares build args for this stage (a Dockerfile ARG after FROM). A global Arg keeps its default. */
  arg(arg: Arg<ArgValue>): Image;
  /**
   * Declares a build arg of this stage by name, with an optional default (Dockerfile `ARG NAME[=default]`
   * after FROM): later steps read it as `${NAME}`; `--build-arg NAME=…` sets it.
   */
  arg(name: string, defaultValue?: ArgValue): Image;
  /** Sets the working directory, creating it (owned by the current user) if missing. */
  workdir(path: string): Image;
  /**
   * The user later RUN steps and the container run as (Dockerfile `USER`): a name, a uid,
   * `"user:group"`, or `{ user, group }`. Copied files stay root-owned unless `chown` says otherwise;
   * a later WORKDIR creates its directory owned by this user, as Docker does.
   *
   * @example
   * base.user("app")   // USER app
   * base.user(1000)    // USER 1000
   */
  user(user: Owner): Image;
  /**
   * The container's default command (Dockerfile `CMD`): an array is exec form (`CMD ["node", "server.js"]`),
   * `sh("…")` is shell form, run through the image's shell. With an ENTRYPOINT, its default arguments.
   *
   * @example
   * app.cmd(["node", "server.js"])
   */
  cmd(command: readonly string[] | ShellCommand): Image;
  /**
   * The program the container runs (Dockerfile `ENTRYPOINT`): an array is exec form, `sh("…")`
   * is shell form. As in Docker, it clears a CMD inherited from the base; a CMD set in this stage stays.
   *
   * @example
   * app.entrypoint(["/usr/local/bin/server"]).cmd(["--port", "8080"])
   */
  entrypoint(command: readonly string[] | ShellCommand): Image;
  /**
   * Records ports the container listens on (Dockerfile `EXPOSE`): `8080`, `"8080/tcp"`, `"53/udp"`,
   * a range `"8000-8010"`, or a numeric Arg. Documentation for `docker run -P`; it opens nothing.
   *
   * @example
   * app.expose(8080, "9090/udp")
   */
  expose<const P extends readonly [Port, ...Port[]]>(...ports: CheckPorts<P>): Image;
  /**
   * Sets labels in the image's config (Dockerfile `LABEL k=v …`); values may read args and env.
   *
   * @example
   * app.label({ "org.opencontainers.image.source": "https://github.com/acme/app" })
   */
  label(labels: Readonly<Record<string, string | Arg<ArgValue>>>): Image;
  /** Sets one label in the image's config (Dockerfile `LABEL key=value`). */
  label(key: string, value: string | Arg<ArgValue>): Image;
  /**
   * Declares mount points for volumes (Dockerfile `VOLUME ["/data"]`): `docker run` mounts an
   * anonymous volume there unless another is given. Files a later step writes there are kept in the image.
   */
  volume(...paths: [string, ...string[]]): Image;
  /** `healthcheck("none")` disables an inherited check. */
  healthcheck(test: readonly string[] | ShellCommand | "none", options?: HealthcheckOptions): Image;
  /** The signal `docker stop` sends the container (Dockerfile `STOPSIGNAL`): `"SIGQUIT"`, `15`, or an Arg; default SIGTERM. */
  stopSignal(signal: Signal): Image;
  /**
   * The shell later string-form RUN steps and `sh("…")` CMD/ENTRYPOINT/HEALTHCHECK run through
   * (Dockerfile `SHELL`); default `["/bin/sh", "-c"]`.
   *
   * @example
   * base.shell(["/bin/bash", "-euo", "pipefail", "-c"]).run("curl -fsSL https://example.com/x | tar -x")
   */
  shell(argv: readonly [string, ...string[]]): Image;
  /** A Dockerfile instruction that runs when another build uses this image as its base. */
  onbuild(instruction: string): Image;
  /** The image author (Dockerfile MAINTAINER). */
  author(name: string): Image;

  /**
   * Removes environment variables set by the base or earlier steps, from later steps and the
   * image's config. A Dockerfile has no way to do this: exporting to a Dockerfile refuses it.
   */
  withoutEnv(...names: [string, ...string[]]): Image;
  /** Removes labels inherited from the base or set earlier (no Dockerfile equivalent; a Dockerfile export refuses it). */
  withoutLabel(...keys: [string, ...string[]]): Image;
  /** Removes exposed ports inherited from the base or set earlier (no Dockerfile equivalent; a Dockerfile export refuses it). */
  withoutExpose<const P extends readonly [Port, ...Port[]]>(...ports: CheckPorts<P>): Image;
  /** Removes volume declarations inherited from the base or set earlier (no Dockerfile equivalent; a Dockerfile export refuses it). */
  withoutVolume(...paths: [string, ...string[]]): Image;

  /** Applies a reusable fragment: `img.with(nodeRuntime({ port: 3000 }))`. */
  with(fragment: (image: Image) => Image): Image;
  /** Paths in this image's filesystem, to copy or mount elsewhere (Dockerfile `COPY --from=`). */
  path(...paths: [string, ...string[]]): CopyFrom;

  /** The image as plain data: its root filesystem op, steps and scope (what `from(image)` and exporters read). */
  toDefinition(): ImageDefinition;
  /**
   * Compiles the image (and every image it copies or mounts from) into the content-addressed
   * layer graph that builds, exports and `strata graph` work on. Pure: nothing is read or pulled.
   */
  toGraph(): LayerGraph;
  /** The graph digest (identity of the whole definition). */
  readonly digest: Digest;
}

/** Whether a value is an Image made by `from()`/`scratch()` (of any copy of @strata/core). */
export function isImage(value: unknown): value is Image {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[IMAGE_BRAND] === true;
}

/** The frozen state behind an Image. */
export interface ImageState {
  /** The op whose output is the image's filesystem so far (a source, or the last RUN/COPY/ADD/WORKDIR). */
  readonly rootfs: Op;
  /** Every step since the image's bottom base, config and filesystem alike, in order. */
  readonly steps: readonly Step[];
  /** Everything templates may read, in order, since the base image (args, env, workdir, stage boundaries). */
  readonly scope: Scope;
  /** The current USER (a template), which RUN steps and WORKDIR's created directories use. */
  readonly user?: string;
  /** The current SHELL, when set (string-form RUN steps run through it). */
  readonly shell?: readonly string[];
  /** The platform `from(ref, { platform })` asked for (a template). */
  readonly platform?: string;
  /** CMD was set in the current stage (an ENTRYPOINT then keeps it; otherwise it clears an inherited CMD). */
  readonly cmdSet: boolean;
  /** Provenance: the image this one started from with `from(image)` (see ImageDefinition.parent). */
  readonly parent?: ImageDefinition["parent"];
  /** Provenance: a stage name for exporters (see ImageDefinition.name). */
  readonly name?: string;
  /** The global args (`{ globalArg }` entries, in declaration order) the image's `from()` saw. */
  readonly globals: readonly ScopeEntry[];
}

/** An Image over a given state: for importers and fragments that assemble states themselves; user modules start with `from()`. */
export function createImage(state: ImageState): Image {
  return new ImageImpl(state);
}

/** The frozen state behind an Image (for exporters and tools; user modules need not read it). */
export function imageState(image: Image): ImageState {
  const s = (image as Partial<ImageImpl>).state;
  if (!s) throw new TypeError("not an Image created by this copy of @strata/core");
  return s;
}

class ImageImpl implements Image {
  readonly [IMAGE_BRAND] = true as const;
  readonly #state: ImageState;

  constructor(state: ImageState) {
    this.#state = Object.freeze(state);
    Object.freeze(this);
  }

  get state(): ImageState {
    return this.#state;
  }

  get digest(): Digest {
    return this.toGraph().digest;
  }

  toDefinition(): ImageDefinition {
    const s = this.#state;
    return Object.freeze({
      rootfs: s.rootfs,
      steps: s.steps,
      ...(s.platform !== undefined ? { platform: s.platform } : {}),
      ...(s.parent ? { parent: s.parent } : {}),
      ...(s.name !== undefined ? { name: s.name } : {}),
    });
  }

  toGraph(): LayerGraph {
    // Memoized outside the frozen object's fields (a WeakMap would do as well).
    if (!graphs.has(this)) graphs.set(this, createGraph(this.toDefinition()));
    return graphs.get(this)!;
  }

  private next(patch: Partial<ImageState>, step: Omit<Step, "meta">): Image {
    const meta = { location: captureCallsite() };
    return new ImageImpl({ ...this.#state, ...patch, steps: [...this.#state.steps, Object.freeze({ ...step, meta })] });
  }

  private configStep(instruction: Instruction, text: string, edits: readonly ConfigEdit[], patch: Partial<ImageState> = {}, scopeAdd: readonly ScopeEntry[] = []): Image {
    const scope = scopeAdd.length ? [...this.#state.scope, ...scopeAdd] : this.#state.scope;
    return this.next({ ...patch, scope }, { instruction, createdBy: text, edits: Object.freeze(edits), ...(scopeAdd.length ? { scope: Object.freeze([...scopeAdd]) } : {}) });
  }

  run(command: string | readonly string[] | Script, options: RunOptions = {}): Image {
    const inputs: Op[] = [this.#state.rootfs];
    const extraMounts: Mount[] = [];
    let cmd: Command;
    if (isScript(command)) {
      inputs.push(scriptOp(command));
      extraMounts.push({ type: "bind", target: "/dev/pipes/", input: 1, source: "/" });
      cmd = { form: "exec", argv: [`/dev/pipes/${command.name}`] };
    } else {
      cmd = typeof command === "string" ? ({ form: "shell", script: command } as const) : toCommand(command, "run");
    }
    if (cmd.form === "shell" && !cmd.script.trim()) throw new TypeError("run() needs a command");
    const images: Record<number, ImageDefinition> = {};
    const inputIndex = (from: CopyFrom) => {
      const op = originOf(from);
      let i = inputs.indexOf(op);
      if (i < 0) i = inputs.push(op) - 1;
      if ("image" in from.origin) images[i] = from.origin.image.toDefinition();
      return i;
    };
    const mounts = [...extraMounts, ...(options.mounts ?? []).map((m) => toGraphMount(m, inputIndex))];
    const location = captureCallsite();
    const op = ExecOp.create({
      inputs,
      command: cmd,
      shell: this.#state.shell,
      scope: this.#state.scope,
      user: this.#state.user,
      mounts,
      network: options.network,
      security: options.security,
      meta: { location, ...(Object.keys(images).length ? { images } : {}) },
    });
    return new ImageImpl({
      ...this.#state,
      rootfs: op,
      steps: [...this.#state.steps, Object.freeze({ instruction: "RUN", createdBy: createdBy.run(cmd, op.mounts), op, meta: { location } })],
    });
  }

  copy(src: CopySource | readonly CopySource[], dest: string, options: CopyOptions = {}): Image {
    return this.copyOrAdd("COPY", src, dest, options);
  }

  add(src: CopySource | readonly CopySource[], dest: string, options: AddOptions = {}): Image {
    return this.copyOrAdd("ADD", src, dest, options);
  }

  private copyOrAdd(instruction: "COPY" | "ADD", src: CopySource | readonly CopySource[], dest: string, options: AddOptions): Image {
    const sources = (Array.isArray(src) ? src : [src]) as readonly CopySource[];
    if (!sources.length) throw new TypeError(`${instruction.toLowerCase()}() needs at least one source`);
    const froms = sources.map(toCopyFrom);
    const first = froms[0]!;
    const originOp = isInlineFile(first) ? inlineFileIn(first, this.#state.scope) : originOf(first);
    if (froms.length > 1 && froms.some((f) => isInlineFile(f) || originOf(f) !== originOp)) {
      throw new StrataError("STRATA_COPY_MIXED_SOURCES", `one ${instruction.toLowerCase()}() reads from one place (the context, one image, one download)`, {
        hint: "split it into several copy() calls, one per source image or context",
        locations: [captureCallsite()()],
      });
    }
    const paths = froms.flatMap((f) => f.paths);
    const destT = tpl(dest);
    const action: FileAction = {
      action: "copy",
      from: 1,
      src: paths,
      dest: destT,
      ...(options.chown !== undefined ? { chown: ownerTemplate(options.chown) } : {}),
      ...(options.chmod !== undefined ? { chmod: modeString(options.chmod) } : {}),
      ...(options.link ? { link: true } : {}),
      ...(options.exclude?.length ? { exclude: options.exclude.map(tpl) } : {}),
      ...(options.parents ? { parents: true } : {}),
      ...(instruction === "ADD" ? { add: true } : {}),
      ...(options.unpack !== undefined ? { unpack: options.unpack } : {}),
      ...(options.keepGitDir ? { keepGitDir: true } : {}),
    };
    const templates = [...paths, destT, ...(action.chown ? [action.chown] : []), ...(action.exclude ?? [])];
    const scope = narrowScope(this.#state.scope, templates, { workdir: !destT.startsWith("/") });
    const location = captureCallsite();
    const origin = froms[0]!.origin;
    const meta = { location, ...("image" in origin ? { images: { 1: origin.image.toDefinition() } } : {}) };
    const op = FileOp.create([this.#state.rootfs, originOp], [action], scope, meta);
    return new ImageImpl({
      ...this.#state,
      rootfs: op,
      steps: [...this.#state.steps, Object.freeze({ instruction, createdBy: createdBy.copy(instruction, paths, destT), op, meta: { location } })],
    });
  }

  env(nameOrVars: string | Readonly<Record<string, string | number | Arg<ArgValue>>>, value?: string | number | Arg<ArgValue>): Image {
    const vars = typeof nameOrVars === "string" ? { [nameOrVars]: value! } : nameOrVars;
    const pairs = Object.entries(vars).map(([k, v]) => {
      if (!k || /[=\s]/.test(k)) throw new TypeError(`invalid environment variable name ${JSON.stringify(k)}`);
      if (v === undefined) throw new TypeError(`env(${JSON.stringify(k)}): a value is required (use withoutEnv to remove one)`);
      return [k, tpl(v)] as const;
    });
    if (!pairs.length) throw new TypeError("env() needs at least one variable");
    const edits = pairs.map(([name, v]) => ({ edit: "env", name, value: v }) as const);
    // Several variables in one step expand against the environment before it (Docker's rule).
    const entry: ScopeEntry = pairs.length === 1 ? { env: pairs[0]![0], value: pairs[0]![1] } : { envs: pairs.map(([k, v]) => [k, v] as const) };
    return this.configStep("ENV", createdBy.keyValues("ENV", pairs), edits, {}, [entry]);
  }

  arg(nameOrArg: string | Arg<ArgValue>, defaultValue?: ArgValue): Image {
    const name = isArg(nameOrArg) ? nameOrArg.name : nameOrArg;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`invalid build arg name ${JSON.stringify(name)}`);
    const explicit = isArg(nameOrArg) ? undefined : defaultValue;
    const isGlobal = explicit === undefined && this.#state.globals.some((g) => "globalArg" in g && g.globalArg === name);
    if (isGlobal) {
      // Re-declaring a global arg (Dockerfile `ARG X` in a stage): its value is the global one.
      const scope = withGlobals(this.#state.scope, this.#state.globals, name);
      const entry: ScopeEntry = { arg: name, global: true };
      // The step carries the whole global prefix: evaluating it again gives the same values.
      const prefix = scope.slice(0, countGlobals(scope));
      return this.next({ scope: [...scope, entry] }, { instruction: "ARG", createdBy: `ARG ${name}`, scope: Object.freeze([...prefix, entry]) });
    }
    const entry = argEntry(isArg(nameOrArg) ? nameOrArg : { name, default: explicit });
    const text = entry.default === undefined ? `ARG ${name}` : `ARG ${name}=${entry.default}`;
    return this.next({ scope: [...this.#state.scope, entry] }, { instruction: "ARG", createdBy: text, scope: Object.freeze([entry]) });
  }

  workdir(path: string): Image {
    const t = tpl(path);
    if (!t) throw new TypeError("workdir() needs a path");
    const scope = narrowScope(this.#state.scope, [t, ...(this.#state.user ? [this.#state.user] : [])], { workdir: !t.startsWith("/") });
    const action: FileAction = { action: "mkdir", path: t, mode: 0o755, parents: true, ...(this.#state.user ? { chown: this.#state.user } : {}) };
    const location = captureCallsite();
    const op = FileOp.create([this.#state.rootfs], [action], scope, { location });
    return new ImageImpl({
      ...this.#state,
      rootfs: op,
      scope: [...this.#state.scope, { workdir: t }],
      steps: [...this.#state.steps, Object.freeze({ instruction: "WORKDIR", createdBy: `WORKDIR ${t}`, op, edits: [{ edit: "workdir", path: t } as const], scope: [{ workdir: t }], meta: { location } })],
    });
  }

  user(user: Owner): Image {
    const t = ownerTemplate(user);
    if (!t) throw new TypeError("user() needs a user");
    return this.configStep("USER", `USER ${t}`, [{ edit: "user", user: t }], { user: t });
  }

  cmd(command: readonly string[] | ShellCommand): Image {
    const c = toCommand(command, "cmd");
    return this.configStep("CMD", createdBy.command("CMD", c), [{ edit: "cmd", command: c }], { cmdSet: true });
  }

  entrypoint(command: readonly string[] | ShellCommand): Image {
    const c = toCommand(command, "entrypoint");
    return this.configStep("ENTRYPOINT", createdBy.command("ENTRYPOINT", c), [{ edit: "entrypoint", command: c, resetCmd: !this.#state.cmdSet }]);
  }

  expose<const P extends readonly [Port, ...Port[]]>(...ports: CheckPorts<P>): Image {
    const ts = atCaller(() => (ports as readonly Port[]).map(portTemplate));
    return this.configStep("EXPOSE", createdBy.list("EXPOSE", ts), ts.map((port) => ({ edit: "expose", port })));
  }

  label(keyOrLabels: string | Readonly<Record<string, string | Arg<ArgValue>>>, value?: string | Arg<ArgValue>): Image {
    const labels = typeof keyOrLabels === "string" ? { [keyOrLabels]: value! } : keyOrLabels;
    const pairs = Object.entries(labels).map(([k, v]) => {
      if (!k) throw new TypeError("label keys must not be empty");
      if (v === undefined) throw new TypeError(`label(${JSON.stringify(k)}): a value is required (use withoutLabel to remove one)`);
      return [tpl(k), tpl(v)] as const;
    });
    if (!pairs.length) throw new TypeError("label() needs at least one label");
    return this.configStep("LABEL", createdBy.keyValues("LABEL", pairs), pairs.map(([key, v]) => ({ edit: "label", key, value: v })));
  }

  volume(...paths: [string, ...string[]]): Image {
    const ts = paths.map(tpl);
    return this.configStep("VOLUME", createdBy.list("VOLUME", ts), ts.map((path) => ({ edit: "volume", path })));
  }

  healthcheck(test: readonly string[] | ShellCommand | "none", options: HealthcheckOptions = {}): Image {
    const check = healthConfig(test, options);
    return this.configStep("HEALTHCHECK", createdBy.healthcheck(check), [{ edit: "healthcheck", check }]);
  }

  stopSignal(signal: Signal): Image {
    const t = tpl(signal);
    // A literal signal is checked now; one read from a build arg when the build expands it.
    if (!templateRefs(t).length) atCaller(() => checkStopSignal(t));
    return this.configStep("STOPSIGNAL", `STOPSIGNAL ${t}`, [{ edit: "stopSignal", signal: t }]);
  }

  shell(argv: readonly [string, ...string[]]): Image {
    if (!Array.isArray(argv) || !argv.length || argv.some((a) => typeof a !== "string")) throw new TypeError('shell() takes a non-empty array of strings, e.g. ["/bin/bash", "-c"]');
    const s = Object.freeze([...argv]);
    return this.configStep("SHELL", `SHELL ${JSON.stringify(s)}`, [{ edit: "shell", shell: s }], { shell: s });
  }

  onbuild(instruction: string): Image {
    const text = instruction.trim();
    if (!text) throw new TypeError("onbuild() needs an instruction");
    if (/^(ONBUILD|FROM|MAINTAINER)\b/i.test(text)) throw new TypeError(`onbuild(${JSON.stringify(text)}): ONBUILD cannot trigger ONBUILD, FROM or MAINTAINER`);
    return this.configStep("ONBUILD", `ONBUILD ${text}`, [{ edit: "onbuild", instruction: text }]);
  }

  author(name: string): Image {
    return this.configStep("MAINTAINER", `MAINTAINER ${name}`, [{ edit: "author", author: name }]);
  }

  withoutEnv(...names: [string, ...string[]]): Image {
    return this.configStep("ENV", `ENV (unset ${names.join(" ")})`, names.map((name) => ({ edit: "unsetEnv", name })), {}, names.map((env) => ({ env, value: null })));
  }

  withoutLabel(...keys: [string, ...string[]]): Image {
    const ts = keys.map(tpl);
    return this.configStep("LABEL", `LABEL (unset ${ts.join(" ")})`, ts.map((key) => ({ edit: "unlabel", key })));
  }

  withoutExpose<const P extends readonly [Port, ...Port[]]>(...ports: CheckPorts<P>): Image {
    const ts = atCaller(() => (ports as readonly Port[]).map(portTemplate));
    return this.configStep("EXPOSE", `EXPOSE (unset ${ts.join(" ")})`, ts.map((port) => ({ edit: "unexpose", port })));
  }

  withoutVolume(...paths: [string, ...string[]]): Image {
    const ts = paths.map(tpl);
    return this.configStep("VOLUME", `VOLUME (unset ${ts.join(" ")})`, ts.map((path) => ({ edit: "unvolume", path })));
  }

  with(fragment: (image: Image) => Image): Image {
    const out = fragment(this);
    if (!isImage(out)) throw new TypeError("with(fn): the fragment must return an Image");
    return out;
  }

  path(...paths: [string, ...string[]]): CopyFrom {
    return imagePaths(this, paths);
  }
}

const graphs = new WeakMap<Image, LayerGraph>();

function toCopyFrom(src: CopySource): CopyFrom {
  if (typeof src === "string") return defaultContextFiles([src]);
  if (isImage(src)) return src.path("/");
  if (isCopyFrom(src)) return src;
  throw new TypeError("copy/add sources are context paths (strings), context(), image.path(), http(), git() or file()");
}

function originOf(from: CopyFrom): Op {
  return "op" in from.origin ? from.origin.op : imageState(from.origin.image).rootfs;
}

function toGraphMount(m: RunMount, inputIndex: (from: CopyFrom) => number): Mount {
  if (!isRunMount(m)) throw new TypeError("run({ mounts }) takes cache(), secret(), bind(), tmpfs() or ssh()");
  switch (m.type) {
    case "cache": {
      const { from, type: _t, target, id, ...rest } = m;
      return {
        type: "cache",
        target: tpl(target),
        ...(id !== undefined ? { id: tpl(id) } : {}),
        ...(from ? { input: inputIndex(from), source: from.paths[0]! } : {}),
        ...rest,
      };
    }
    case "bind": {
      const from = m.from ?? defaultContextFiles(["."]);
      return {
        type: "bind",
        target: tpl(m.target),
        input: inputIndex(from),
        source: from.paths[0]!,
        ...(m.readwrite ? { readwrite: true } : {}),
      };
    }
    case "tmpfs":
      return { type: "tmpfs", target: tpl(m.target), ...(m.size !== undefined ? { size: m.size } : {}) };
    case "secret": {
      const { type: _t, id, target, ...rest } = m;
      return { type: "secret", id: tpl(id), ...(target !== undefined ? { target: tpl(target) } : {}), ...rest };
    }
    case "ssh": {
      const { type: _t, ...rest } = m;
      return { type: "ssh", ...rest };
    }
  }
}

/** The same image with a stage name for exporters (provenance only: the digest does not change). */
export function named(image: Image, name: string): Image {
  return createImage({ ...imageState(image), name });
}

function countGlobals(scope: readonly ScopeEntry[]): number {
  let n = 0;
  while (n < scope.length && "globalArg" in scope[n]!) n++;
  return n;
}

/**
 * The scope with the global arg declarations `name` needs: global entries stay a prefix in
 * declaration order (they are evaluated on their own), so re-declaring args in any order gives
 * one canonical scope.
 */
function withGlobals(scope: readonly ScopeEntry[], globals: readonly ScopeEntry[], name: string): ScopeEntry[] {
  const prefix = countGlobals(scope);
  const present = new Set(scope.slice(0, prefix).map((e) => (e as { globalArg: string }).globalArg));
  present.add(name);
  // Backwards over the declarations: keep what a wanted name needs, then what its default reads.
  const kept: ScopeEntry[] = [];
  for (let i = globals.length - 1; i >= 0; i--) {
    const g = globals[i]!;
    if (!("globalArg" in g) || !present.has(g.globalArg)) continue;
    kept.push(g);
    if (g.default !== undefined) for (const n of templateRefs(g.default)) present.add(n);
  }
  return [...kept.reverse(), ...scope.slice(prefix)];
}

/** Runs a check of a builder's argument; a coded error it throws gets the user's call site (as TypeErrors do). */
function atCaller<T>(check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof StrataError && !e.locations.length) throw e.withLocation(captureCallsite()());
    throw e;
  }
}
