import type { ErrorCode } from "./error-codes.ts";

/** An invalid template or pattern; `code` is a stable STRATA_TEMPLATE_… code. */
export class TemplateError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "TemplateError";
    this.code = code;
  }
}
