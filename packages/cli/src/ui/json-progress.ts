import { isStrataError, type SourceLocation } from "@strata/graph";

/**
 * The version of the `--progress json` schema: the `v` field of every line. It changes only
 * when a field changes meaning or goes away (new event types and new fields do not bump it;
 * readers ignore what they do not know). The schema is documented in README.md.
 */
const PROGRESS_SCHEMA_VERSION = 1;

/** One JSON Lines record: `{"v":1,"type":…,…}`. */
export function jsonLine(type: string, fields: Readonly<Record<string, unknown>>): string {
  return `${JSON.stringify({ v: PROGRESS_SCHEMA_VERSION, type, ...fields })}\n`;
}

/** Whether these arguments ask for JSON progress (then errors are JSON lines too). */
export function wantsJson(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") return false;
    const v = a === "--progress" ? argv[i + 1] : a.startsWith("--progress=") ? a.slice("--progress=".length) : undefined;
    if (v === "json" || v === "rawjson") return true;
  }
  return false;
}

const where = (l: SourceLocation) => ({ file: l.file, line: l.line, column: l.column, ...(l.endLine !== undefined ? { endLine: l.endLine, endColumn: l.endColumn } : {}) });

/**
 * An error as the `error` record: its STRATA_* code, message, hint and positions; `exit` is
 * the status the CLI exits with. Anything not a StrataError is `STRATA_INTERNAL` (a bug) or,
 * for a failed system call, `STRATA_SYSTEM_<errno>`, as the text reporter names them.
 */
export function errorLine(e: unknown, exit: number): string {
  if (isStrataError(e)) {
    const d = e.toDiagnostic();
    return jsonLine("error", { code: d.code, message: d.message, ...(d.hint ? { hint: d.hint } : {}), locations: (d.locations ?? []).map(where), exit });
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const errno = (err as NodeJS.ErrnoException).code;
  const code = typeof errno === "string" && /^E[A-Z]+$/.test(errno) ? `STRATA_SYSTEM_${errno}` : exit === 70 ? "STRATA_INTERNAL" : "STRATA_EVAL";
  return jsonLine("error", { code, message: err.message, locations: [], exit });
}
