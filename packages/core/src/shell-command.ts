const SHELL = Symbol.for("strata.shellCommand");

/** A command in shell form, run through the image's SHELL: `cmd(sh("exec node server.js"))`. */
export interface ShellCommand {
  readonly [SHELL]: true;
  readonly script: string;
}

/** Shell form for cmd/entrypoint/healthcheck (`run("…")` takes a string directly). */
export function sh(script: string): ShellCommand {
  return Object.freeze({ [SHELL]: true as const, script });
}

export function isShellCommand(value: unknown): value is ShellCommand {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[SHELL] === true;
}
