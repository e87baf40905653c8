/** Dockerfile diagnostics → the graph's Diagnostic / SourceLocation (for StrataError and the CLI). */
import type { Diagnostic, SourceLocation } from "@strata/graph";
import type { DockerfileDiagnostic, Span } from "./types.ts";

export function toLocation(span: Span, file: string): SourceLocation {
  return { file, line: span.start.line, column: span.start.column, endLine: span.end.line, endColumn: span.end.column };
}

export function toGraphDiagnostic(d: DockerfileDiagnostic, file: string): Diagnostic {
  return {
    code: d.code,
    severity: d.severity,
    message: d.message,
    locations: [toLocation(d.span, file)],
    ...(d.hint !== undefined ? { hint: d.hint } : {}),
  };
}
