import type { ErrorCode } from "@strata/graph";
/** A word that BuildKit would refuse to process; `code` is a stable `DF_SHELL_…` code. */
export class ShellError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "ShellError";
    this.code = code;
  }
}
