import type { ErrorCode } from "./error-codes.ts";
import type { SourceLocation } from "./source-location.ts";

export type Severity = "error" | "warning" | "info";

/** A problem as data: a stable code, a message, where (possibly several places), and a hint. */
export interface Diagnostic {
  readonly code: ErrorCode;
  readonly severity: Severity;
  readonly message: string;
  readonly locations?: readonly SourceLocation[];
  readonly hint?: string;
}

/**
 * The one error type Strata's packages throw on purpose. The CLI prints it (code, message,
 * code frames for its locations, hint) and no stack trace; anything else is a bug.
 */
export class StrataError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly locations: readonly SourceLocation[];
  readonly diagnostics: readonly Diagnostic[];

  constructor(
    code: ErrorCode,
    message: string,
    opts: { hint?: string; locations?: readonly (SourceLocation | undefined)[]; cause?: unknown; diagnostics?: readonly Diagnostic[] } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "StrataError";
    this.code = code;
    this.hint = opts.hint;
    this.locations = (opts.locations ?? []).filter((l): l is SourceLocation => l !== undefined);
    this.diagnostics = opts.diagnostics ?? [];
  }

  /** The same error with another location added (outer call sites append, never replace). */
  withLocation(loc: SourceLocation | undefined): StrataError {
    if (!loc) return this;
    const e = new StrataError(this.code, this.message, {
      locations: [...this.locations, loc],
      diagnostics: this.diagnostics,
      ...(this.hint !== undefined ? { hint: this.hint } : {}),
      ...(this.cause !== undefined ? { cause: this.cause } : {}),
    });
    return e;
  }

  toDiagnostic(): Diagnostic {
    return {
      code: this.code,
      severity: "error",
      message: this.message,
      ...(this.locations.length ? { locations: this.locations } : {}),
      ...(this.hint ? { hint: this.hint } : {}),
    };
  }
}

export function isStrataError(e: unknown): e is StrataError {
  return e instanceof Error && e.name === "StrataError" && typeof (e as StrataError).code === "string";
}
