const SHELL = Symbol.for("strata.shellCommand");

/** A command in shell form, run through the image's SHELL: `cmd(sh("exec node server.js"))`. */
export interface ShellCommand {
  readonly [SHELL]: true;
  /** The command line, given to the image's shell as one argument (`/bin/sh -c "<script>"`). */
  readonly script: string;
}

/** Shell form for cmd/entrypoint/healthcheck (`run("…")` takes a string directly). */
export function sh(script: string): ShellCommand {
  return Object.freeze({ [SHELL]: true as const, script });
}

/** Whether a value is a shell-form command made by `sh()`. */
export function isShellCommand(value: unknown): value is ShellCommand {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[SHELL] === true;
}
