import { readFileSync } from "node:fs";
import { relative } from "node:path";
import type { SourceLocation } from "@strata/graph";

/** `file:line:col`, the line itself and a caret under the column (and the span, if on one line). */
export function codeFrame(loc: SourceLocation, cwd = process.cwd(), source?: string): string {
  const file = displayPath(loc.file, cwd);
  const head = `  --> ${file}:${loc.line}:${loc.column}`;
  let text = source;
  if (text === undefined) {
    try {
      text = readFileSync(loc.file, "utf8");
    } catch {
      return head;
    }
  }
  const lines = text.split(/\r?\n/);
  const line = lines[loc.line - 1];
  if (line === undefined) return head;
  const gutter = String(loc.line).length;
  const width = loc.endLine === loc.line && loc.endColumn && loc.endColumn > loc.column ? loc.endColumn - loc.column : 1;
  const pad = line.slice(0, Math.max(0, loc.column - 1)).replace(/[^\t]/g, " ");
  return [
    head,
    `${" ".repeat(gutter)} |`,
    `${loc.line} | ${line}`,
    `${" ".repeat(gutter)} | ${pad}${"^".repeat(Math.max(1, Math.min(width, line.length - loc.column + 1)))}`,
  ].join("\n");
}

export function displayPath(file: string, cwd = process.cwd()): string {
  if (!file.startsWith("/")) return file;
  const rel = relative(cwd, file);
  return rel.startsWith("..") ? file : rel;
}
