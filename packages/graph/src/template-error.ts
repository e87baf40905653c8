import { StrataError } from "./diagnostic.ts";
import type { ErrorCode } from "./error-codes.ts";

/**
 * An invalid template or pattern, or an expansion that failed (`${X:?msg}`, a word over the
 * size bound); `code` is a stable STRATA_… code. It is a StrataError, so a build reports it
 * with the position of the step that expanded it instead of as an internal error.
 */
export class TemplateError extends StrataError {
  constructor(code: ErrorCode, message: string, opts: { hint?: string } = {}) {
    // The name stays "StrataError": that is how the CLI (across bundle chunks) recognises coded errors.
    super(code, message, opts);
  }
}
