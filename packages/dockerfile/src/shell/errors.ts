/** A word that BuildKit would refuse to process; `code` is a stable `DF_SHELL_…` code. */
export class ShellError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "ShellError";
    this.code = code;
  }
}
