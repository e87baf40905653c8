import { isStrataError, type Diagnostic, type SourceLocation } from "@strata/graph";
import { codeFrame } from "./code-frame.ts";
import { parseFirstUserFrame } from "./stack.ts";

export interface Reporter {
  readonly stderr: (text: string) => void;
  readonly color: boolean;
  readonly debug: boolean;
}

const paint = (on: boolean, code: string, s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

export function formatDiagnostic(d: Diagnostic, color: boolean, sources?: ReadonlyMap<string, string>): string {
  const sev = d.severity === "error" ? paint(color, "1;31", "error") : d.severity === "warning" ? paint(color, "1;33", "warning") : paint(color, "1;36", "info");
  const out = [`${sev}[${d.code}]: ${d.message}`];
  for (const loc of d.locations ?? []) out.push(codeFrame(loc, process.cwd(), sources?.get(loc.file)));
  if (d.hint) out.push(`  ${paint(color, "1;32", "hint")}: ${d.hint}`);
  return `${out.join("\n")}\n`;
}

/**
 * Prints any error as one clear message. A StrataError is a user-facing problem: code,
 * message, code frames, hint. An error thrown while evaluating the user's module (a
 * TypeError from a builder, a typo) gets the user's frame as its location. Anything else is
 * a bug in Strata: it says so, and shows the stack only with --debug.
 */
export function reportError(e: unknown, r: Reporter): number {
  if (isStrataError(e)) {
    r.stderr(formatDiagnostic(e.toDiagnostic(), r.color));
    for (const d of e.diagnostics) if (d.severity !== "error" || d.message !== e.message) r.stderr(formatDiagnostic(d, r.color));
    if (r.debug && e.stack) r.stderr(`${e.stack}\n`);
    return e.code === "STRATA_USAGE" ? 2 : 1;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const userLoc: SourceLocation | undefined = (err as { strataUserError?: boolean }).strataUserError ? parseFirstUserFrame(err.stack ?? "") : undefined;
  if (userLoc) {
    r.stderr(formatDiagnostic({ code: "STRATA_EVAL", severity: "error", message: err.message, locations: [userLoc] }, r.color));
    if (r.debug && err.stack) r.stderr(`${err.stack}\n`);
    return 1;
  }
  // A failed system call (a full disk, a permission, a vanished file) is the environment's
  // problem, not a bug: say what failed, without a stack.
  const errno = err as NodeJS.ErrnoException;
  if (typeof errno.code === "string" && /^E[A-Z]+$/.test(errno.code) && errno.syscall) {
    r.stderr(formatDiagnostic({ code: `STRATA_SYSTEM_${errno.code}`, severity: "error", message: err.message, hint: errno.code === "ENOSPC" ? "free some space or set STRATA_HOME to a bigger disk" : "check the path and its permissions" }, r.color));
    if (r.debug && err.stack) r.stderr(`${err.stack}\n`);
    return 1;
  }
  r.stderr(`${paint(r.color, "1;31", "internal error")}: ${err.message}\n`);
  r.stderr(r.debug ? `${err.stack}\n` : "  this is a bug in strata; run again with --debug for the stack trace and report it\n");
  return 70;
}
