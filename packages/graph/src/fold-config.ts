import type { ConfigEdit } from "./config-edit.ts";
import { checkStopSignal, parsePortSpec } from "./config-values.ts";
import { isStrataError } from "./diagnostic.ts";
import { ScopeState, type EvalContext } from "./evaluate.ts";
import { DEFAULT_LINUX_PATH, DEFAULT_SHELL, type HistoryEntry, type ImageConfig } from "./image-config.ts";
import type { Command } from "./ops/exec-op.ts";
import type { ImageDefinition } from "./layer-graph.ts";
import { resolveLocation } from "./source-location.ts";
import type { Step } from "./step.ts";

export interface FoldedConfig {
  readonly config: ImageConfig;
  readonly author?: string;
  /** History entries for the steps (not the base image's), `empty_layer` on config-only steps. */
  readonly history: readonly HistoryEntry[];
}

type MutableConfig = {
  -readonly [K in keyof ImageConfig]: ImageConfig[K];
};

/** Step indexes where a new stage starts (`from(image)`): build args go out of scope there. */
function stageStarts(image: ImageDefinition): Set<number> {
  const out = new Set<number>();
  for (let p = image.parent; p; p = p.image.parent) out.add(p.steps);
  return out;
}

/**
 * Applies an image definition's steps to its base image's config, expanding templates with
 * the build's args, exactly in step order. Pure: the engine, the exporter's tests and the
 * equivalence harness all fold configs through this one function.
 */
export function foldConfig(base: ImageConfig | undefined, image: ImageDefinition, ctx: EvalContext): FoldedConfig {
  const steps = image.steps;
  const starts = stageStarts(image);
  const config: MutableConfig = { ...(base ?? {}) };
  // A base image's ONBUILD triggers are consumed by the build that uses it.
  delete config.OnBuild;
  const state = new ScopeState(ctx, { env: config.Env, workdir: config.WorkingDir });
  if (!state.env.has("PATH")) state.env.set("PATH", DEFAULT_LINUX_PATH);
  let author: string | undefined;
  const history: HistoryEntry[] = [];
  const ports = new Map(Object.entries(config.ExposedPorts ?? {}));
  const volumes = new Map(Object.entries(config.Volumes ?? {}));
  const labels = new Map(Object.entries(config.Labels ?? {}));
  const onbuild: string[] = [];
  let workdirSet = config.WorkingDir !== undefined && config.WorkingDir !== "";

  for (const [i, step] of steps.entries()) {
    try {
      foldStep(i, step);
    } catch (e) {
      // An expansion that fails (a required arg, a word over the bound, a port read from an
      // arg) is reported at the step that wrote it.
      const loc = resolveLocation(step.meta);
      throw isStrataError(e) && !e.locations.length && loc ? e.withLocation(loc) : e;
    }
  }
  function foldStep(i: number, step: Step): void {
    if (starts.has(i)) state.apply({ stage: true });
    // ARG, ENV and WORKDIR change the scope exactly as they did for the ops after them.
    for (const entry of step.scope ?? []) state.apply(entry);
    for (const edit of step.edits ?? []) {
      const e = edit as ConfigEdit;
      switch (e.edit) {
        case "env":
        case "unsetEnv":
          break; // applied through the step's scope entries
        case "workdir":
          workdirSet = true;
          break;
        case "user":
          config.User = state.expand(e.user);
          break;
        case "cmd":
          config.Cmd = commandArgv(e.command, config.Shell);
          if (e.command.form === "shell") config.ArgsEscaped = true;
          break;
        case "entrypoint":
          config.Entrypoint = commandArgv(e.command, config.Shell);
          if (e.command.form === "shell") config.ArgsEscaped = true;
          if (e.resetCmd) config.Cmd = null;
          break;
        case "expose":
          for (const p of parsePortSpec(state.expand(e.port))) ports.set(p, {});
          break;
        case "unexpose":
          for (const p of parsePortSpec(state.expand(e.port))) ports.delete(p);
          break;
        case "label":
          labels.set(state.expand(e.key), state.expand(e.value));
          break;
        case "unlabel":
          labels.delete(state.expand(e.key));
          break;
        case "volume":
          volumes.set(state.expand(e.path), {});
          break;
        case "unvolume":
          volumes.delete(state.expand(e.path));
          break;
        case "healthcheck":
          config.Healthcheck = e.check;
          break;
        case "stopSignal":
          config.StopSignal = checkStopSignal(state.expand(e.signal));
          break;
        case "shell":
          config.Shell = e.shell;
          break;
        case "onbuild":
          onbuild.push(e.instruction);
          break;
        case "author":
          author = e.author;
          break;
      }
    }
    history.push({ created_by: step.createdBy, ...(step.op ? {} : { empty_layer: true }) });
  }

  config.Env = [...state.env].map(([k, v]) => `${k}=${v}`);
  if (workdirSet) config.WorkingDir = state.cwd;
  setMap(config, "ExposedPorts", ports);
  setMap(config, "Volumes", volumes);
  if (labels.size) config.Labels = Object.fromEntries([...labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  else delete config.Labels;
  if (onbuild.length) config.OnBuild = onbuild;
  return { config, history, ...(author !== undefined ? { author } : {}) };
}

function setMap(config: MutableConfig, key: "ExposedPorts" | "Volumes", map: Map<string, Record<string, never>>): void {
  if (map.size) config[key] = Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  else delete config[key];
}

/** `80` → `80/tcp`; protocols lower-cased, as Docker stores them. */
export function normalizePort(port: string): string {
  const [num, proto] = port.split("/");
  return `${num}/${(proto || "tcp").toLowerCase()}`;
}

export function commandArgv(command: Command, shell: readonly string[] | undefined): string[] {
  return command.form === "exec" ? [...command.argv] : [...(shell ?? DEFAULT_SHELL), command.script];
}
