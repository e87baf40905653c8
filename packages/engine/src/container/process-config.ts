import { DEFAULT_LINUX_PATH, StrataError, type ImageConfig } from "@strata/graph";

/** What the user gave on the command line that overrides the image's config. */
export interface ProcessOverrides {
  /** Replaces CMD (after the ENTRYPOINT). */
  readonly command?: readonly string[];
  /** Replaces ENTRYPOINT; `[]` (docker's `--entrypoint ""`) clears it. Also drops the image's CMD, as docker does. */
  readonly entrypoint?: readonly string[];
  /** `KEY=value`, or `KEY` alone to take this environment's value (dropped when unset, like docker). */
  readonly env?: readonly string[];
  readonly workdir?: string;
  readonly user?: string;
  /** With a terminal, `TERM=xterm` unless the image or `env` sets TERM (docker does this). */
  readonly terminal?: boolean;
}

/** The container's process, resolved from the image config and the overrides. */
export interface ContainerProcess {
  readonly argv: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  /** USER as written (resolved against the image's /etc/passwd later); "" for root. */
  readonly user: string;
  /** Things of the image config that `strata run` does not apply, to tell the user once. */
  readonly notes: readonly string[];
}

/**
 * Docker's rules for a container's process: ENTRYPOINT + CMD, where a command replaces CMD and
 * `--entrypoint` replaces ENTRYPOINT and resets CMD; the image's Env then `-e` in order (a later
 * key wins); PATH defaulted when the image has none; WorkingDir or `/`.
 */
export function containerProcess(cfg: ImageConfig, o: ProcessOverrides, hostEnv: NodeJS.ProcessEnv): ContainerProcess {
  const entrypoint = o.entrypoint ?? cfg.Entrypoint ?? [];
  const cmd = o.command?.length ? o.command : o.entrypoint ? [] : (cfg.Cmd ?? []);
  const argv = [...entrypoint, ...cmd];
  if (!argv.length) {
    throw new StrataError("STRATA_RUN_NO_COMMAND", "the image has no ENTRYPOINT or CMD, and no command was given", { hint: "strata run IMAGE -- COMMAND ARGS…" });
  }
  const env = new Map<string, string>();
  for (const kv of cfg.Env ?? []) {
    const eq = kv.indexOf("=");
    if (eq > 0) env.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  for (const kv of o.env ?? []) {
    const eq = kv.indexOf("=");
    const key = eq < 0 ? kv : kv.slice(0, eq);
    if (key === "" || /[\s\0]/.test(key)) throw new StrataError("STRATA_RUN_BAD_ENV", `-e ${JSON.stringify(kv)}: ${JSON.stringify(key)} is not a variable name`, { hint: "-e KEY=value or -e KEY" });
    if (eq >= 0) env.set(key, kv.slice(eq + 1));
    else if (hostEnv[key] !== undefined) env.set(key, hostEnv[key]!);
  }
  if (!env.has("PATH")) env.set("PATH", DEFAULT_LINUX_PATH);
  if (o.terminal && !env.has("TERM")) env.set("TERM", "xterm");
  const cwd = o.workdir ?? (cfg.WorkingDir || "/");
  if (!cwd.startsWith("/")) throw new StrataError("STRATA_RUN_BAD_CWD", `-w ${JSON.stringify(cwd)} is not an absolute path`);
  const notes: string[] = [];
  const health = cfg.Healthcheck;
  if (health?.Test?.length && health.Test[0] !== "NONE") notes.push("the image's HEALTHCHECK is not run by strata run (no health status is kept)");
  return { argv, env: [...env].map(([k, v]) => `${k}=${v}`), cwd, user: o.user ?? cfg.User ?? "", notes };
}

/** The image's ExposedPorts as `80/tcp` strings (informational: nothing is published without -p, as in docker). */
export function exposedPorts(cfg: ImageConfig): string[] {
  const ports = cfg.ExposedPorts;
  return ports ? Object.keys(ports).sort() : [];
}
